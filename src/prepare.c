/* prepare.c - see prepare.h. */
#include "prepare.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "spawn.h"

static char **removals;
static int nremovals;

/* Reads the child's output from fd (into out) until its end, then waits
 * for the child; both until the deadline (loop_now() seconds).  Returns 0
 * with *st set, or -1 after killing it (the deadline passed, or a signal
 * came to qlua). */
static int wait_child(pid_t pid, int fd, double deadline, int *st, char *out, size_t outlen)
{
	size_t used = 0;
	while (fd >= 0) {
		if (loop_signal() || loop_now() >= deadline)
			goto kill;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		char buf[1024];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		size_t keep = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
		memcpy(out + used, buf, keep);
		used += keep;
		out[used] = '\0';
	}
	for (;;) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 0;
		if (loop_signal() || loop_now() >= deadline)
			goto kill;
		poll(NULL, 0, 10);
	}
kill:
	kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The command's output for a message: one line, without trailing space. */
static void tidy(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

static int run_step(const struct emit_step *s, int i, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "prepare[%d]: cannot create a pipe: %s", i + 1, strerror(errno));
		return -1;
	}
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct spawn_req req = {
		.path = s->argv[0], .argv = s->argv, .stdin_fd = devnull,
		.stdout_fd = pfd[1], .stderr_fd = pfd[1],
	};
	char why[512];
	pid_t pid;
	int rc = spawn_start(&req, &pid, why, sizeof why);
	close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	if (rc) {
		close(pfd[0]);
		snprintf(err, errlen, "prepare[%d]: %s", i + 1, why);
		return -1;
	}
	char out[2048] = "";
	int st = 0;
	if (wait_child(pid, pfd[0], loop_now() + PREPARE_TIMEOUT, &st, out, sizeof out) < 0) {
		if (loop_signal())
			snprintf(err, errlen, "prepare[%d]: '%s' interrupted by signal %d", i + 1, s->argv[0], loop_signal());
		else
			snprintf(err, errlen, "prepare[%d]: '%s' did not finish within %d s (killed)", i + 1, s->argv[0],
			         PREPARE_TIMEOUT);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	tidy(out);
	char how[64];
	if (WIFSIGNALED(st))
		snprintf(how, sizeof how, "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(how, sizeof how, "exited with code %d", WEXITSTATUS(st));
	snprintf(err, errlen, "prepare[%d]: '%s' %s%s%s", i + 1, s->argv[0], how, *out ? ": " : "", out);
	return -1;
}

int prepare_run(const struct emit *e, char *err, size_t errlen)
{
	for (int i = 0; i < e->nsteps; i++) {
		if (run_step(&e->steps[i], i, err, errlen) < 0)
			return -1;
		if (e->steps[i].remove) {
			char **v = realloc(removals, (nremovals + 1) * sizeof *v);
			char *p = strdup(e->steps[i].remove);
			if (v)
				removals = v;
			if (v && p)
				removals[nremovals++] = p;
			else
				free(p);  /* out of memory: left behind rather than failing the launch */
		}
	}
	return 0;
}

static int remove_errno;  /* the first failed removal of prepare_remove_tree's walk (nftw passes no context) */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT && !remove_errno)
		remove_errno = errno;
	return 0;  /* on to the rest, as rm -rf */
}

int prepare_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	remove_errno = 0;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return -1;
	errno = remove_errno;
	return remove_errno ? -1 : 0;
}

void prepare_cleanup(void)
{
	while (nremovals > 0) {
		char *p = removals[--nremovals];
		prepare_remove_tree(p);  /* what cannot be removed is left: nothing else to do at exit */
		free(p);
	}
	free(removals);
	removals = NULL;
}
