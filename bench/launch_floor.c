/* bench/launch_floor.c - the floor of bench/launch.sh and bench/many.sh:
 * what qlua does for bench/launch.lua (and bench/many.lua), as cheaply as C
 * can do it.
 *
 * A socketpair; posix_spawnp of QEMU (-machine none, no devices, no display)
 * with the child's end as fd 3 and its QMP monitor on it; the greeting;
 * qmp_capabilities, query-status and quit, each with its reply; waitpid.
 * Parsing is the least that works: QEMU ends each message with "\r\n", a
 * reply is the next line holding "return" or "error" (events are skipped).
 *
 * With N > 1, N QEMUs are started first; then each in turn has its greeting
 * read and qmp_capabilities sent (qlua's event loop, too, answers every
 * greeting as it comes); then each in turn has that reply read and is sent
 * query-status and its reply read; then each is sent quit (and its reply
 * read); then all are waited for.  A line of timings is printed, as
 * bench/many.lua prints it.  -c gives each QEMU a console as qlua's console = "capture"
 * does: a second socketpair, fd 4, `-chardev socket,id=con,fd=4 -serial
 * chardev:con` (read by nobody: -machine none writes nothing to it).
 *
 * Built with -DLIKE_QLUA_SPAWN (bench/launch_floor_fork, for the breakdown in
 * bench/README.md only), QEMU is started the way src/spawn.c does it instead:
 * fork, signal dispositions reset, descriptors placed, close_range,
 * PR_SET_PDEATHSIG, execvp, and a close-on-exec pipe telling the parent that
 * exec happened; with QEMU's stderr on a pipe read to its end, as qlua's
 * stderr = "capture" default.
 *
 * usage: bench/launch_floor [-c] [N]    (exit status 0 when all went well)
 * QEMU is $QLUA_QEMU if set (as for qlua), else qemu-system-x86_64 on PATH.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_VMS 256

struct vm {
	pid_t pid;
	int qmp;          /* our end of the QMP socketpair */
	int con;          /* our end of the console socketpair, or -1 */
	int err;          /* LIKE_QLUA_SPAWN: QEMU's stderr, or -1 */
	size_t len;
	char buf[4096];   /* what was read and not yet taken as a line */
};

static struct vm vms[MAX_VMS];
static int nvms;

/* Every QEMU started so far is killed if anything fails: no run leaves one
 * behind. */
static void kill_all(void)
{
	for (int i = 0; i < nvms; i++)
		if (vms[i].pid > 0)
			kill(vms[i].pid, SIGKILL);
}

static void die(const char *what)
{
	fprintf(stderr, "launch_floor: %s: %s\n", what, errno ? strerror(errno) : "failed");
	kill_all();
	exit(1);
}

/* The bound of a run: 30 s, as qlua's default QMP timeout. */
static void on_alarm(int sig)
{
	static const char msg[] = "launch_floor: timeout\n";
	kill_all();
	ssize_t r = write(2, msg, sizeof msg - 1);
	(void)r;
	_exit(1);
}

/* Reads one line of v's QMP into line (NUL-terminated, without "\r\n");
 * 0 at end of file. */
static int next_line(struct vm *v, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(v->buf, '\n', v->len);
		if (nl) {
			size_t n = (size_t)(nl - v->buf);
			size_t c = n < cap - 1 ? n : cap - 1;
			memcpy(line, v->buf, c);
			line[c] = '\0';
			v->len -= n + 1;
			memmove(v->buf, nl + 1, v->len);
			return 1;
		}
		if (v->len == sizeof v->buf)
			v->len = 0;  /* a line longer than the buffer: not in this benchmark */
		ssize_t r = read(v->qmp, v->buf + v->len, sizeof v->buf - v->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			return 0;
		v->len += (size_t)r;
	}
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	for (size_t off = 0; off < n;) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("send");
		off += (size_t)w;
	}
}

/* Waits for the reply to the command sent last (skipping events). */
static void wait_reply(struct vm *v, const char *cmd, int eof_ok)
{
	char line[4096];
	for (;;) {
		if (!next_line(v, line, sizeof line)) {
			if (eof_ok)
				return;
			errno = 0;
			die("QMP closed before the reply");
		}
		if (strstr(line, "\"error\"")) {
			errno = 0;
			fprintf(stderr, "launch_floor: %s", cmd);
			die(line);
		}
		if (strstr(line, "\"return\""))
			return;
	}
}

static void execute(struct vm *v, const char *cmd, int eof_ok)
{
	send_all(v->qmp, cmd);
	wait_reply(v, cmd, eof_ok);
}

#ifdef LIKE_QLUA_SPAWN
/* src/spawn.c's way, minus its error reports. */
static void spawn(struct vm *v, char *path, char **args, const int *fds, int nfds)
{
	int p[2], errpipe[2];
	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(errpipe, O_CLOEXEC) < 0)
		die("pipe2");
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t parent = getpid();
	v->pid = fork();
	if (v->pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; sig++)
			sigaction(sig, &sa, NULL);
		int top = 3 + nfds, tmp[8];
		int rep = fcntl(p[1], F_DUPFD_CLOEXEC, top);
		int t2 = fcntl(errpipe[1], F_DUPFD_CLOEXEC, top);
		for (int k = 0; k < nfds; k++)
			if ((tmp[k] = fcntl(fds[k], F_DUPFD_CLOEXEC, top)) < 0)
				_exit(126);
		if (rep < 0 || t2 < 0 || dup2(t2, 2) < 0)
			_exit(126);
		for (int k = 0; k < nfds; k++)
			if (dup2(tmp[k], 3 + k) < 0)
				_exit(126);
		syscall(SYS_close_range, top, rep - 1, 0);
		syscall(SYS_close_range, rep + 1, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(path, args);
		int e = errno;
		ssize_t w = write(rep, &e, sizeof e);
		(void)w;
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	close(errpipe[1]);
	v->err = errpipe[0];
	if (v->pid < 0)
		die("fork");
	int e;
	ssize_t n;
	while ((n = read(p[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n != 0) {
		errno = n == sizeof e ? e : EIO;
		die(path);
	}
}
#else
static void spawn(struct vm *v, char *path, char **args, const int *fds, int nfds)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	for (int k = 0; k < nfds; k++)
		posix_spawn_file_actions_adddup2(&fa, fds[k], 3 + k);  /* dup2 clears close-on-exec */
	int e = posix_spawnp(&v->pid, path, &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		errno = e;
		die(path);
	}
}
#endif

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A line of /proc/self/status in KiB: fmt is "VmHWM: %ld" or "RssAnon: %ld". */
static long status_kib(const char *fmt)
{
	char s[4096];
	FILE *f = fopen("/proc/self/status", "r");
	long kib = -1;
	while (f && fgets(s, sizeof s, f))
		if (sscanf(s, fmt, &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	int console = 0, a = 1;
	if (a < argc && !strcmp(argv[a], "-c")) {
		console = 1;
		a++;
	}
	int n = a < argc ? atoi(argv[a]) : 1;
	if (n < 1 || n > MAX_VMS) {
		fprintf(stderr, "usage: launch_floor [-c] [N]    (1 <= N <= %d)\n", MAX_VMS);
		return 2;
	}
	char *qemu = getenv("QLUA_QEMU") && *getenv("QLUA_QEMU") ? getenv("QLUA_QEMU") : "qemu-system-x86_64";
	char *args[] = { qemu, "-machine", "none", "-nodefaults", "-display", "none",
	                 "-chardev", "socket,id=qmp,fd=3", "-mon", "chardev=qmp,mode=control",
	                 "-chardev", "socket,id=con,fd=4", "-serial", "chardev:con", NULL };
	if (!console)
		args[10] = NULL;
	signal(SIGALRM, on_alarm);
	/* 30 s for one VM, a second more for each other: 256 VMs on a loaded
	 * 2-core machine take longer than 30 s (bench/vm_mem.sh) */
	alarm(30 + (unsigned)n - 1);

	double t0 = now();
	for (int i = 0; i < n; i++) {
		struct vm *v = &vms[i];
		int q[2], c[2] = { -1, -1 }, fds[2];
		v->con = v->err = -1;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, q) < 0 ||
		    (console && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c) < 0))
			die("socketpair");
		/* a child end numbered 3 or 4 could be overwritten by the other's
		 * dup2 before its own: such a one is moved up first */
		for (int k = 0; k < 2; k++) {
			int *fd = k ? &c[1] : &q[1];
			if (*fd >= 0 && *fd < 5) {
				int up = fcntl(*fd, F_DUPFD_CLOEXEC, 5);
				if (up < 0)
					die("fcntl");
				close(*fd);
				*fd = up;
			}
		}
		fds[0] = q[1];
		fds[1] = c[1];
		nvms = i + 1;
		spawn(v, qemu, args, fds, console ? 2 : 1);
		close(q[1]);
		if (console)
			close(c[1]);
		v->qmp = q[0];
		v->con = c[0];
	}
	double t1 = now();
	/* the process's own memory (bench/many.lua's anon): after the launches
	 * and after the queries, the larger */
	long anon = status_kib("RssAnon: %ld");
	char line[4096];
	/* Each greeting is answered as soon as it is read, as qlua's event loop
	 * does (with N = 1, these are just the steps one after the other). */
	for (int i = 0; i < n; i++) {
		if (!next_line(&vms[i], line, sizeof line) || !strstr(line, "\"QMP\"")) {
			errno = 0;
			die("no QMP greeting");
		}
		send_all(vms[i].qmp, "{\"execute\":\"qmp_capabilities\"}\n");
	}
	for (int i = 0; i < n; i++) {
		wait_reply(&vms[i], "qmp_capabilities", 0);
		execute(&vms[i], "{\"execute\":\"query-status\"}\n", 0);
	}
	double t2 = now();
	long anon2 = status_kib("RssAnon: %ld");
	if (anon2 > anon)
		anon = anon2;
	for (int i = 0; i < n; i++)
		execute(&vms[i], "{\"execute\":\"quit\"}\n", 1);
	int ok = 1;
	for (int i = 0; i < n; i++) {
		int st;
		while (waitpid(vms[i].pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		vms[i].pid = 0;
		ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
		close(vms[i].qmp);
		if (vms[i].con >= 0)
			close(vms[i].con);
		if (vms[i].err >= 0) {
			char junk[4096];
			while (read(vms[i].err, junk, sizeof junk) > 0)  /* QEMU's stderr, to its end */
				;
			close(vms[i].err);
		}
	}
	double t3 = now();
	if (n > 1)
		printf("n=%d launch_ms=%.1f query_ms=%.1f shutdown_ms=%.1f total_ms=%.1f hwm=%ld anon=%ld\n", n,
		       (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3, status_kib("VmHWM: %ld"), anon);
	return ok ? 0 : 1;
}
