/* spawn.c - see spawn.h.  fork + exec with one explicit descriptor map.
 *
 * The fork is clone(CLONE_VM | CLONE_VFORK), as posix_spawn does it: the
 * child runs on a stack of its own in qlua's memory, qlua waiting, until it
 * execs or exits.  A real fork copied qlua's page tables and then made both
 * processes fault on every page either wrote (a start of one VM took about
 * 1% longer than the same steps with posix_spawn: bench/README.md).  So the
 * child writes nothing of qlua's but its own stack (and errno, which qlua
 * does not read after a successful clone), takes no lock, and changes ids
 * with the raw system calls: glibc's setuid would act for qlua's threads.
 *
 * The child does, in this order: reset signal dispositions (still blocked),
 * setsid, place descriptors, close all others, groups/gid/uid, parent-death
 * signal, unblock signals, exec.  Credentials come before PR_SET_PDEATHSIG
 * because the kernel clears the parent-death signal whenever the effective
 * ids change (commit_creds).  A failing step writes {step, errno} to a
 * close-on-exec pipe; end of file on that pipe means exec succeeded.
 *
 * Exec is execve with a PATH search of our own, not execvp: execvp runs a
 * file the kernel refuses as not a program (ENOEXEC: garbage, an empty
 * file, a script without #!) with /bin/sh, which would make a corrupt or
 * wrong "QEMU" binary run as shell commands with QEMU's arguments. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child was doing when it failed; arg says which id or fd. */
enum step {
	STEP_SESSION = 1,
	STEP_GROUPS,
	STEP_GID,
	STEP_UID,
	STEP_PDEATHSIG,
	STEP_FD,        /* arg: child descriptor number being prepared */
	STEP_CLOSE,
	STEP_PIPE,      /* arg: the number the report pipe had to move above */
	STEP_EXEC,
};

struct report {
	int step;
	int err;
	int arg;        /* STEP_EXEC: which $PATH entry (1, 2, ...) failed; 0: req->path itself */
};

/* The programs' environment, for execve. */
extern char **environ;

/* Writes the failure to the parent and exits.  Like all the child code,
 * it sticks to async-signal-safe calls: the child is a copy of a program
 * that may hold locks. */
static void child_fail(int errfd, int step, int err, int arg)
{
	struct report r = { step, err, arg };
	ssize_t n;

	do
		n = write(errfd, &r, sizeof r);
	while (n < 0 && errno == EINTR);
	_exit(step == STEP_EXEC ? spawn_exit_code(err) : 126);
}

/* The parent's ignored signals would survive exec, and its handlers make no
 * sense in QEMU; errors (SIGKILL, SIGSTOP, glibc's reserved ones) are fine. */
static void reset_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
}

static int sys_close_range(unsigned first, unsigned last)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The kernel lists a process's open descriptors in /proc/self/fd; getdents64
 * is used directly because opendir would malloc after fork. */
struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int close_from_proc(int first, int keep)
{
	char buf[4096];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return -1;
	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(dir);
			return n < 0 ? -1 : 0;
		}
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			int fd = 0;
			const char *p = d->d_name;

			off += d->d_reclen;
			if (*p < '0' || *p > '9')
				continue;
			for (; *p >= '0' && *p <= '9'; p++)
				fd = fd * 10 + (*p - '0');
			if (fd >= first && fd != keep && fd != dir)
				close(fd);
		}
	}
}

/* Closes every descriptor >= first except keep (the report pipe). */
static int close_others(int first, int keep)
{
	int r = 0;

	if (keep > first)
		r = sys_close_range((unsigned)first, (unsigned)keep - 1);
	if (r == 0)
		r = sys_close_range((unsigned)keep + 1, ~0U);
	if (r == 0)
		return 0;
	/* Kernels before 5.9 have no close_range. */
	if (close_from_proc(first, keep) == 0)
		return 0;
	/* No /proc either: try every number below the limit, which cannot be
	 * above the kernel's nr_open (1 << 20 by default) in practice. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur > (rlim_t)1 << 20)
		rl.rlim_cur = (rlim_t)1 << 20;
	for (rlim_t fd = (rlim_t)first; fd < rl.rlim_cur; fd++)
		if ((int)fd != keep)
			close((int)fd);
	return 0;
}

/* The parent descriptor that becomes child descriptor k (-1: inherit). */
static int source_of(const struct spawn_req *req, int k)
{
	switch (k) {
	case 0: return req->stdin_fd;
	case 1: return req->stdout_fd;
	case 2: return req->stderr_fd;
	default: return req->fds[k - 3];
	}
}

/* Puts each source on its child number k (0..n-1; -1 sources stay as they
 * are).  Every source is first copied to tmp[k] above the highest target, so
 * a source numbered like some target, or one source used twice, cannot be
 * clobbered before it is placed; dup2 then clears close-on-exec on the
 * targets only. */
static void place_fds(const struct spawn_req *req, int errfd, int *tmp, int n)
{
	for (int k = 0; k < n; k++) {
		int src = source_of(req, k);
		tmp[k] = -1;
		if (src < 0)
			continue;
		tmp[k] = fcntl(src, F_DUPFD_CLOEXEC, n);
		if (tmp[k] < 0)
			child_fail(errfd, STEP_FD, errno, k);
	}
	for (int k = 0; k < n; k++) {
		if (tmp[k] >= 0 && dup2(tmp[k], k) < 0)
			child_fail(errfd, STEP_FD, errno, k);
	}
	/* An inherited 0, 1 or 2 stays what it is, but open across exec even if
	 * qlua adopted it as a qemu.fd (which made it close-on-exec). */
	for (int k = 0; k < 3; k++)
		if (tmp[k] < 0)
			fcntl(k, F_SETFD, 0);
}

/* Writes $PATH entry i (1-based; "" means the current directory) joined
 * with name into buf; 0, or -1 when there is no such entry or no room. */
static int path_entry(const char *search, int i, const char *name, char *buf, size_t len)
{
	const char *p = search;
	for (int k = 1; k < i; k++) {
		p = strchr(p, ':');
		if (!p)
			return -1;
		p++;
	}
	size_t dn = strcspn(p, ":"), nn = strlen(name);
	if (dn == 0) {
		p = ".";
		dn = 1;
	}
	if (dn + 1 + nn + 1 > len)
		return -1;
	memcpy(buf, p, dn);
	buf[dn] = '/';
	memcpy(buf + dn + 1, name, nn + 1);
	return 0;
}

/* execvp without its /bin/sh fallback (see the top of this file): a path
 * with a '/' is executed as it is; a bare name is looked for in each $PATH
 * entry in turn.  Like execvp, a candidate that does not exist is passed
 * over and one that is not executable is remembered (EACCES if nothing
 * better comes); unlike it, a candidate that exists but failed (ENOEXEC, an
 * interpreter that is missing) ends the search with that error, as a shell
 * does.  Only async-signal-safe calls: this runs after fork. */
static void exec_program(const struct spawn_req *req, const char *search, int errfd)
{
	if (strchr(req->path, '/')) {
		execve(req->path, req->argv, environ);
		child_fail(errfd, STEP_EXEC, errno, 0);
	}
	char buf[PATH_MAX];
	int eacces = 0, entries = 1;
	struct stat st;
	if (!*req->path)
		child_fail(errfd, STEP_EXEC, ENOENT, 0);  /* as execvp: "" names no file */
	for (const char *p = search; *p; p++)
		entries += *p == ':';
	for (int i = 1; i <= entries; i++) {
		if (path_entry(search, i, req->path, buf, sizeof buf) < 0)
			continue;  /* too long to be a file name */
		execve(buf, req->argv, environ);
		int e = errno;
		if (e == EACCES) {
			if (!eacces)
				eacces = i;
			continue;
		}
		if ((e == ENOENT || e == ENOTDIR || e == ESTALE || e == ENODEV || e == ETIMEDOUT) &&
		    !(e == ENOENT && stat(buf, &st) == 0 && S_ISREG(st.st_mode)))
			continue;
		child_fail(errfd, STEP_EXEC, e, i);
	}
	if (eacces)
		child_fail(errfd, STEP_EXEC, EACCES, eacces);
	child_fail(errfd, STEP_EXEC, ENOENT, 0);
}

/* Descriptors are placed before the ids change: after setuid the process is
 * not dumpable and could no longer read /proc/self/fd (close_range fallback). */
static void child(const struct spawn_req *req, const char *search, int errfd, pid_t parent, int *tmp)
{
	int n = 3 + req->nfds;
	sigset_t none;

	reset_signals();
	if (req->new_session && setsid() < 0)
		child_fail(errfd, STEP_SESSION, errno, 0);

	/* The report pipe must not sit on a target number either.  (It can
	 * still carry the report if it cannot move: nothing was placed yet.
	 * Exiting without one would read as a successful exec.) */
	if (errfd < n) {
		int e = fcntl(errfd, F_DUPFD_CLOEXEC, n);
		if (e < 0)
			child_fail(errfd, STEP_PIPE, errno, n);
		errfd = e;
	}
	place_fds(req, errfd, tmp, n);
	if (close_others(n, errfd) < 0)
		child_fail(errfd, STEP_CLOSE, errno, 0);

	if (req->set_groups && syscall(SYS_setgroups, (size_t)req->ngroups, req->groups) < 0)
		child_fail(errfd, STEP_GROUPS, errno, 0);
	if (req->set_gid && syscall(SYS_setgid, req->gid) < 0)
		child_fail(errfd, STEP_GID, errno, 0);
	if (req->set_uid && syscall(SYS_setuid, req->uid) < 0)
		child_fail(errfd, STEP_UID, errno, 0);
	if (!req->detach) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail(errfd, STEP_PDEATHSIG, errno, 0);
		/* qlua may have died before prctl: nobody would kill us then. */
		if (getppid() != parent)
			_exit(1);
	}

	/* QEMU starts with an empty mask, not qlua's: a blocked SIGTERM
	 * would survive exec and make QEMU deaf to it. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	exec_program(req, search, errfd);
}

/* clone's child: child() never returns (it execs or _exits). */
struct child_args {
	const struct spawn_req *req;
	const char *search;
	int errfd;
	pid_t parent;
	int *tmp;
};

static int child_main(void *arg)
{
	const struct child_args *a = arg;
	child(a->req, a->search, a->errfd, a->parent, a->tmp);
	return 127;
}

/* The child's stack: one is enough, qlua is suspended while a child uses
 * it.  The child needs about 10 KiB (two buffers of PATH_MAX and 4096).
 * It is taken from malloc at the first start and kept, not put in .bss:
 * 64 KiB there left the small variables after it each on a page of its
 * own, touched by every run (bench/README.md, "The schema's pages"). */
#ifndef __SANITIZE_ADDRESS__
#define CHILD_STACK (64 << 10)
static max_align_t *child_stack;
#endif

/* EMFILE while the child places the map is qlua's own limit (the child
 * starts as a copy of qlua and needs a few numbers more): messages say so,
 * since the descriptor they name is fine.  "" for other errors. */
static void limit_hint(int e, char *buf, size_t n)
{
	struct rlimit rl;

	buf[0] = '\0';
	if (e == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		snprintf(buf, n, " (qlua reached its limit of %llu open descriptors)",
		         (unsigned long long)rl.rlim_cur);
}

/* The message for a descriptor that could not be placed on child fd k. */
static void fd_message(const struct spawn_req *req, int k, int e, char *err, size_t errlen)
{
	static const char *const names[] = { "standard input", "standard output", "standard error" };
	char limit[80];

	limit_hint(e, limit, sizeof limit);
	if (k < 3)
		snprintf(err, errlen, "cannot use descriptor %d as %s: %s%s",
		         source_of(req, k), names[k], strerror(e), limit);
	else
		snprintf(err, errlen, "cannot pass descriptor %d as fd %d: %s%s",
		         source_of(req, k), k, strerror(e), limit);
}

/* The interpreter a "#!" line (text, n bytes) names, into raw (as the
 * kernel reads it) and shown (control characters as ^M and the like: a
 * script saved with CRLF ends its interpreter's name in a carriage
 * return).  Both "" when text has no #!. */
static void interpreter(const char *text, size_t n, char *raw, char *shown, size_t len)
{
	size_t i = 2, r = 0, o = 0;
	raw[0] = shown[0] = '\0';
	if (n < 2 || text[0] != '#' || text[1] != '!')
		return;
	while (i < n && (text[i] == ' ' || text[i] == '\t'))
		i++;
	for (; i < n && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && o + 3 < len; i++) {
		unsigned char c = (unsigned char)text[i];
		raw[r++] = (char)c;
		if (c < 32 || c == 127)
			shown[o++] = '^', c ^= 64;
		shown[o++] = (char)c;
	}
	raw[r] = shown[o] = '\0';
}

/* "cannot execute 'NAME': why".  A name found in $PATH is followed by the
 * file that failed.  A script whose #! interpreter is missing (or cannot
 * run) says so: the kernel's bare "No such file or directory" for a file
 * that exists would send the user looking for the wrong file. */
static void exec_message(const struct spawn_req *req, const char *search,
                         const struct report *r, char *err, size_t errlen)
{
	char file[PATH_MAX], found[PATH_MAX + 4] = "", raw[256] = "", shown[256] = "", text[256];
	const char *why = strerror(r->err), *elf = "";
	if (r->arg > 0 && path_entry(search, r->arg, req->path, file, sizeof file) == 0)
		snprintf(found, sizeof found, " (%s)", file);
	else
		snprintf(file, sizeof file, "%s", req->path);
	if (r->err == ENOENT || r->err == EACCES || r->err == ENOEXEC) {
		struct stat st;
		int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			ssize_t n = read(fd, text, sizeof text);
			if (n > 0)
				interpreter(text, (size_t)n, raw, shown, sizeof raw);
			/* an ELF file that exists, and yet ENOENT: its program
			 * interpreter (the dynamic loader it names) is missing */
			if (n >= 4 && !memcmp(text, "\177ELF", 4) && r->err == ENOENT)
				elf = " (the file exists: the ELF interpreter it names does not)";
		}
		if (fd >= 0)
			close(fd);
		/* ENOENT for a file that is there: its interpreter is not;
		 * otherwise blame the interpreter only if it cannot run */
		if (raw[0] && r->err != ENOENT && access(raw, X_OK) == 0)
			shown[0] = '\0';
	}
	if (shown[0])
		snprintf(err, errlen, "cannot execute '%s'%s: bad interpreter '%s' (%s)", req->path, found, shown, why);
	else
		snprintf(err, errlen, "cannot execute '%s'%s: %s%s", req->path, found, why, elf);
}

/* Turns the child's report into a message in Lua's wording. */
static void describe(const struct spawn_req *req, const char *search, const struct report *r,
                     char *err, size_t errlen)
{
	const char *why = strerror(r->err);
	char limit[80];

	limit_hint(r->err, limit, sizeof limit);
	switch (r->step) {
	case STEP_SESSION:
		snprintf(err, errlen, "cannot start a new session: %s", why);
		break;
	case STEP_GROUPS:
		snprintf(err, errlen, "cannot set supplementary groups: %s", why);
		break;
	case STEP_GID:
		snprintf(err, errlen, "cannot set gid %u: %s", (unsigned)req->gid, why);
		break;
	case STEP_UID:
		snprintf(err, errlen, "cannot set uid %u: %s", (unsigned)req->uid, why);
		break;
	case STEP_PDEATHSIG:
		snprintf(err, errlen, "cannot set the parent death signal: %s", why);
		break;
	case STEP_FD:
		fd_message(req, r->arg, r->err, err, errlen);
		break;
	case STEP_CLOSE:
		snprintf(err, errlen, "cannot close inherited descriptors: %s", why);
		break;
	case STEP_PIPE:
		snprintf(err, errlen, "cannot move the start report pipe out of fds 0-%d: %s%s", r->arg - 1, why, limit);
		break;
	default:
		exec_message(req, search, r, err, errlen);
		break;
	}
}

/* Collects a child that failed before exec, so no zombie is left. */
static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int spawn_start(const struct spawn_req *req, pid_t *pid, char *err, size_t errlen)
{
	int p[2], e;
	int *tmp;
	sigset_t all, old;
	struct report r;
	ssize_t n;

	if (!req->path || !req->argv || !req->argv[0] || req->nfds < 0 ||
	    (req->nfds > 0 && !req->fds) || req->nfds > INT_MAX / 2 - 3) {
		snprintf(err, errlen, "invalid spawn request");
		return -EINVAL;
	}
	/* Checked here, before the report pipe exists: a stale number could
	 * otherwise name the pipe itself and hand its write end to the child. */
	for (int k = 0; k < 3 + req->nfds; k++) {
		int fd = source_of(req, k);
		if ((k < 3 && fd == -1) || (fd >= 0 && fcntl(fd, F_GETFD) >= 0))
			continue;
		fd_message(req, k, EBADF, err, errlen);
		return -EBADF;
	}
	/* Read now: getenv is no call for the child. */
	const char *search = getenv("PATH");
	if (!search)
		search = "/bin:/usr/bin";  /* execvp's default */
	/* The child's scratch space is allocated here: no malloc after fork. */
	tmp = calloc(3 + (size_t)req->nfds, sizeof *tmp);
#ifndef __SANITIZE_ADDRESS__
	if (tmp && !child_stack && !(child_stack = malloc(CHILD_STACK))) {
		free(tmp);
		tmp = NULL;
	}
#endif
	if (!tmp) {
		snprintf(err, errlen, "cannot start '%s': %s", req->path, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		e = errno;
		free(tmp);
		snprintf(err, errlen, "cannot create a pipe to start '%s': %s", req->path, strerror(e));
		return -e;
	}

	/* With every signal blocked, no qlua handler can run in the child
	 * before its dispositions are reset. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	struct child_args ca = { req, search, p[1], getpid(), tmp };
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer cannot follow a child on a stack of its own (it
	 * warns of false positives, and the log it opens then is inherited by
	 * QEMU): the sanitized build (make check-asan) forks. */
	pid_t c = fork();
	if (c == 0)
		_exit(child_main(&ca));
#else
	pid_t c = clone(child_main, child_stack + CHILD_STACK / sizeof *child_stack,
	                CLONE_VM | CLONE_VFORK | SIGCHLD, &ca);
#endif
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	free(tmp);
	if (c < 0) {
		close(p[0]);
		snprintf(err, errlen, "cannot fork to start '%s': %s", req->path, strerror(e));
		return -e;
	}

	/* Blocks until exec closes the child's end (success: end of file) or
	 * the child reports a failed step. */
	do
		n = read(p[0], &r, sizeof r);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(p[0]);
	if (n == 0) {
		*pid = c;
		return 0;
	}
	if (n != (ssize_t)sizeof r) {
		/* Cannot tell whether exec happened: make sure no child remains. */
		kill(c, SIGKILL);
		reap(c);
		if (n > 0)
			e = EIO;
		snprintf(err, errlen, "cannot read the start report of '%s': %s",
		         req->path, strerror(e));
		return -e;
	}
	reap(c);
	describe(req, search, &r, err, errlen);
	e = r.err ? r.err : EIO;
	return r.step == STEP_EXEC ? e : -e;
}

/* What a shell reports: 127 when the program was not found, 126 when it
 * was found but could not be run. */
int spawn_exit_code(int err)
{
	return err == ENOENT ? 127 : 126;
}

int spawn_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	/* pidfd_open descriptors are always close-on-exec. */
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}
