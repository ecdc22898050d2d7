/* vm.c - see vm.h. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdutil.h"
#include "loop.h"

static struct vm *all;

static void reap(struct vm *v)
{
	if (v->orphan && v->exited)
		return;
	int st;
	pid_t r;
	do
		r = waitpid(v->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == v->pid || (r < 0 && errno == ECHILD)) {
		v->exited = 1;
		v->status = r == v->pid ? st : 0;
		if (v->pidfd >= 0) {
			loop_del(v->pidfd);
			close(v->pidfd);
			v->pidfd = -1;
		}
		if (v->orphan)
			vm_free(v);  /* nobody holds it: reaped, it is done */
	}
}

static void on_exit_ready(void *ctx, int fd, uint32_t events)
{
	reap(ctx);
}

/* Without pidfds: after SIGCHLD, every VM watched no other way is asked.
 * (reap may free an orphan: the next one is taken first.) */
static void reap_unwatched(void)
{
	for (struct vm *v = all, *next; v; v = next) {
		next = v->next;
		if (v->pidfd < 0 && !v->exited)
			reap(v);
	}
}

/* Something must tell the loop that QEMU exited: its pidfd, or SIGCHLD
 * where the kernel (or valgrind) has no pidfd_open.  0, or -1 with errno. */
static int watch_exit(struct vm *v)
{
	v->pidfd = spawn_pidfd(v->pid);
	if (v->pidfd >= 0)
		return loop_add(v->pidfd, EPOLLIN, on_exit_ready, v);
	if (errno != ENOSYS && errno != EPERM)
		return -1;
	return loop_watch_children(reap_unwatched);
}

/* Keeps the last VM_STDERR_KEEP bytes (and appends them to the log). */
static void keep_stderr(struct vm *v, const char *s, size_t n)
{
	if (v->errlog >= 0)
		log_append(&v->errlog, v->errlog_path, "QEMU's stderr", s, n);
	if (!v->err && !(v->err = malloc(VM_STDERR_KEEP)))
		return;
	if (v->errlen + n > VM_STDERR_KEEP) {
		size_t drop = v->errlen + n - VM_STDERR_KEEP;
		v->cut = 1;
		memmove(v->err, v->err + drop, v->errlen - drop);
		v->errlen -= drop;
	}
	memcpy(v->err + v->errlen, s, n);
	v->errlen += n;
}

/* Stops watching a captured stream (stderr, stdout) and closes it. */
static void close_watched(int *fd)
{
	if (*fd >= 0) {
		loop_del(*fd);
		close(*fd);
		*fd = -1;
	}
}

/* Reads what the captured stream *fd holds, in pieces of up to n bytes
 * through buf, each handed to keep; at its end (or on an error) stops
 * watching it and closes it.  QEMU is never blocked on the pipe. */
static void drain(struct vm *v, int *fd, char *buf, size_t n, void (*keep)(struct vm *, const char *, size_t))
{
	for (;;) {
		ssize_t got = read(*fd, buf, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			close_watched(fd);
			return;
		}
		keep(v, buf, got);
	}
}

static void on_stderr(void *ctx, int fd, uint32_t events)
{
	struct vm *v = ctx;
	char buf[16384];  /* smaller than VM_STDERR_KEEP: keep_stderr relies on it */
	drain(v, &v->errfd, buf, sizeof buf, keep_stderr);
}

/* Keeps the first VM_STDOUT_KEEP bytes and drops the rest, so the process
 * can write all it wants and still finish. */
static void keep_stdout(struct vm *v, const char *s, size_t n)
{
	size_t keep = VM_STDOUT_KEEP - v->outlen < n ? VM_STDOUT_KEEP - v->outlen : n;
	if (keep < n)
		v->cut = 1;
	if (v->outlen + keep > v->outcap) {
		size_t cap = v->outcap ? v->outcap : 65536;
		while (cap < v->outlen + keep)
			cap *= 2;
		char *p = realloc(v->out, cap);
		if (!p) {  /* out of memory: what does not fit is dropped */
			v->cut = 1;
			return;
		}
		v->out = p;
		v->outcap = cap;
	}
	memcpy(v->out + v->outlen, s, keep);
	v->outlen += keep;
}

static void on_stdout(void *ctx, int fd, uint32_t events)
{
	struct vm *v = ctx;
	char buf[65536];
	drain(v, &v->outfd, buf, sizeof buf, keep_stdout);
}

void vm_capture_stdout(struct vm *v, int fd)
{
	v->outfd = fd;
	if (loop_add(fd, EPOLLIN, on_stdout, v) < 0)
		close_watched(&v->outfd);  /* (cannot happen short of memory: then nothing is captured) */
}

struct vm *vm_start(const struct spawn_req *req, int errfd, int qmpfd, int confd,
                    char *err, size_t errlen, int *code)
{
	struct vm *v = calloc(1, sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		*code = ENOMEM;
		goto fail;
	}
	v->pidfd = v->errfd = v->errlog = v->outfd = -1;
	v->detach = req->detach;
	int rc = spawn_start(req, &v->pid, err, errlen);
	if (rc) {
		*code = rc;
		free(v);
		goto fail;
	}
	if (watch_exit(v) < 0) {
		snprintf(err, errlen, "cannot watch QEMU (pidfd_open: %s)", strerror(errno));
		*code = -(errno ? errno : ENOSYS);  /* qlua's failure, not QEMU's (spawn.h) */
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
		if (v->pidfd >= 0)
			close(v->pidfd);
		free(v);
		goto fail;
	}
	if (errfd >= 0) {
		v->errfd = errfd;
		loop_add(errfd, EPOLLIN, on_stderr, v);
	}
	if (qmpfd >= 0)
		v->qmp = qmp_open(qmpfd);
	if (confd >= 0)
		v->console = console_open(confd);
	v->next = all;
	v->prevp = &all;
	if (all)
		all->prevp = &v->next;
	all = v;
	if (v->pidfd < 0)
		reap(v);  /* an exit before SIGCHLD was caught would go unseen */
	return v;
fail:
	if (errfd >= 0)
		close(errfd);
	if (qmpfd >= 0)
		close(qmpfd);
	if (confd >= 0)
		close(confd);
	return NULL;
}

void vm_abandon(struct vm *v)
{
	if (v->exited) {
		vm_free(v);
		return;
	}
	/* A detached QEMU is still qlua's child: keep watching its pidfd (and
	 * nothing else) so it is reaped, not left a zombie, when it exits. */
	v->orphan = 1;
	close_watched(&v->errfd);
	close_watched(&v->outfd);
	qmp_free(v->qmp);
	v->qmp = NULL;
	console_free(v->console);
	v->console = NULL;
	qga_free(v->agent);
	v->agent = NULL;
}

void vm_free(struct vm *v)
{
	if (!v)
		return;
	*v->prevp = v->next;
	if (v->next)
		v->next->prevp = v->prevp;
	if (v->pidfd >= 0) {
		loop_del(v->pidfd);
		close(v->pidfd);
	}
	close_watched(&v->errfd);
	close_watched(&v->outfd);
	free(v->out);
	if (v->errlog >= 0)
		close(v->errlog);
	free(v->errlog_path);
	qmp_free(v->qmp);
	console_free(v->console);
	qga_free(v->agent);
	free(v->err);
	free(v);
}

static int exited(void *ctx)
{
	return ((struct vm *)ctx)->exited;
}

int vm_wait(struct vm *v, double deadline)
{
	if (v->exited)
		return 1;
	int r = loop_run(exited, v, deadline);
	if (r == 1 && v->errfd >= 0)
		on_stderr(v, v->errfd, EPOLLIN);  /* what QEMU wrote last */
	if (r == 1 && v->outfd >= 0)
		on_stdout(v, v->outfd, EPOLLIN);
	return r;
}

int vm_kill(struct vm *v, int sig)
{
	if (v->exited)
		return -1;
#ifdef SYS_pidfd_send_signal
	/* a pidfd cannot be recycled: the signal goes to this QEMU or nowhere */
	if (v->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, v->pidfd, sig, NULL, 0);
#endif
	return kill(v->pid, sig);
}

static int qmp_settled(void *ctx)
{
	struct vm *v = ctx;
	return v->exited || !v->qmp || (v->qmp->state != QMP_GREETING && v->qmp->state != QMP_NEGOTIATING);
}

int vm_qmp_ready(struct vm *v, double deadline)
{
	if (!v->qmp)
		return -2;
	int r = loop_run(qmp_settled, v, deadline);
	if (r != 1)
		return r;
	return v->qmp->state == QMP_READY && !v->exited ? 1 : -2;
}

/* The escalation as a state machine, so it can also be driven by a
 * suspended wait (a matrix cell) and for every VM at once (at exit): each
 * call does what can be done now. */
enum { STOP_POWERDOWN, STOP_QUIT, STOP_TERM, STOP_KILL, STOP_FAILED };
static const char *const stop_names[] = { "powerdown", "quit", "term", "kill" };

/* Enters step: sends what it sends, sets its deadline (its share of the
 * timeout from now: a step that ended early leaves its time unused). */
static void stop_enter(struct vm *v, struct vm_stop *s, int step)
{
	if (step == STOP_POWERDOWN && !((s->flags & VM_STOP_POWERDOWN) && s->powerdown > 0 && v->qmp))
		step = STOP_QUIT;
	if (step == STOP_QUIT && (s->flags & VM_STOP_READY_ONLY) && !(v->qmp && v->qmp->state == QMP_READY))
		step = STOP_TERM;  /* at exit nothing waits for a QMP channel that is not ready */
	s->step = step;
	s->sent = s->closed = 0;
	switch (step) {
	case STOP_POWERDOWN: s->deadline = loop_deadline(s->powerdown); break;
	case STOP_QUIT: s->deadline = loop_deadline(s->share); break;
	case STOP_TERM: vm_kill(v, SIGTERM); s->deadline = loop_deadline(s->share); break;
	case STOP_KILL: vm_kill(v, SIGKILL); s->deadline = loop_deadline(s->share); break;
	}
}

void vm_stop_init(struct vm *v, struct vm_stop *s, double timeout, int flags)
{
	int later = flags & VM_STOP_POWERDOWN ? 6 : 3;  /* the three later steps: half the timeout, or all */
	double share = timeout / later < VM_STOP_STEP_MAX ? timeout / later : VM_STOP_STEP_MAX;
	s->flags = flags;
	s->powerdown = flags & VM_STOP_POWERDOWN ? timeout - 3 * share : 0;
	s->share = share > VM_STOP_STEP_MIN ? share : VM_STOP_STEP_MIN;
	s->started = 0;
	s->step = STOP_POWERDOWN;
}

void vm_stop_hurry(struct vm_stop *s)
{
	s->deadline = 0;
	s->closed = 1;  /* no grace for a channel that closed either */
}

const char *vm_stop_step(struct vm *v, struct vm_stop *s, double *deadline)
{
	if (!s->started) {
		s->started = 1;
		if (v->exited)
			return "exited";
		stop_enter(v, s, STOP_POWERDOWN);
	}
	for (;;) {
		if (v->exited)
			return stop_names[s->step];
		if (s->step == STOP_FAILED)
			return NULL;
		int timed_out = loop_now() >= s->deadline;
		if (s->step == STOP_POWERDOWN || s->step == STOP_QUIT) {
			struct qmp *q = v->qmp;
			if (q && !qmp_alive(q) && s->sent && !s->closed) {
				/* the channel closing after our command is QEMU exiting:
				 * the kernel tells the socket before the pidfd */
				s->closed = 1;
				if (s->deadline > loop_deadline(2))
					s->deadline = loop_deadline(2);
				timed_out = 0;
			}
			if (!q || (!qmp_alive(q) && !s->sent) || timed_out) {
				stop_enter(v, s, s->step + 1);
				continue;
			}
			if (q->state == QMP_READY && !s->sent) {
				if (!qmp_send(q, s->step == STOP_POWERDOWN ? "system_powerdown" : "quit", NULL)) {
					stop_enter(v, s, s->step + 1);
					continue;
				}
				s->sent = 1;
			}
		} else if (timed_out) {
			if (s->step == STOP_KILL) {
				s->step = STOP_FAILED;
				return NULL;
			}
			stop_enter(v, s, s->step + 1);
			continue;
		}
		*deadline = s->deadline;
		return "";  /* not yet */
	}
}

const char *vm_shutdown(struct vm *v, double timeout, int flags)
{
	struct vm_stop s;
	double deadline;
	vm_stop_init(v, &s, timeout, flags);
	for (;;) {
		const char *r = vm_stop_step(v, &s, &deadline);
		if (!r || *r)
			return r;
		if (loop_round(deadline) < 0)
			return NULL;
	}
}

static int all_exited(void *ctx)
{
	for (struct vm *v = all; v; v = v->next)
		if (!v->detach && !v->exited)
			return 0;
	return 1;
}

void vm_shutdown_all(double timeout)
{
	/* Every VM's escalation at once, in one loop: each VM's own steps
	 * (vm_stop_step), the loop waiting until the soonest step's end. */
	int n = 0;
	for (struct vm *v = all; v; v = v->next)
		n += !v->detach && !v->exited;
	if (!n)
		return;
	struct stopping {
		struct vm *v;
		struct vm_stop s;
		int done;
	} *st = calloc((size_t)n, sizeof *st);
	int i = 0;
	for (struct vm *v = all; v && st; v = v->next)
		if (!v->detach && !v->exited) {
			st[i].v = v;
			vm_stop_init(v, &st[i++].s, timeout, VM_STOP_READY_ONLY);
		}
	if (!st) {  /* out of memory: no grace */
		for (struct vm *v = all; v; v = v->next)
			if (!v->detach && !v->exited)
				vm_kill(v, SIGKILL);
		loop_clear_signal();
		loop_run(all_exited, NULL, loop_deadline(VM_STOP_STEP_MAX));
		return;
	}
	/* (no VM is freed meanwhile: only detached ones are orphans) */
	for (;;) {
		double soonest = -1, d;
		int left = 0;
		for (i = 0; i < n; i++) {
			if (st[i].done)
				continue;
			const char *r = vm_stop_step(st[i].v, &st[i].s, &d);
			if (!r || *r) {
				st[i].done = 1;
				continue;
			}
			left++;
			if (soonest < 0 || d < soonest)
				soonest = d;
		}
		if (!left)
			break;
		/* the signal that ends qlua must not end this; a later one (Ctrl-C
		 * again) only ends the steps at hand */
		loop_clear_signal();
		if (loop_round(soonest) < 0) {
			loop_clear_signal();
			for (i = 0; i < n; i++)
				vm_stop_hurry(&st[i].s);
		}
	}
	free(st);
}

const char *vm_status_text(const struct vm *v, char *buf, size_t n)
{
	if (!v->exited)
		snprintf(buf, n, "running");
	else if (WIFSIGNALED(v->status))
		snprintf(buf, n, "signal %d", WTERMSIG(v->status));
	else
		snprintf(buf, n, "code %d", WEXITSTATUS(v->status));
	return buf;
}
