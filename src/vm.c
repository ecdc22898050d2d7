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

/* Keeps the last VM_STDERR_KEEP bytes: QEMU is never blocked on the pipe. */
static void keep_stderr(struct vm *v, const char *s, size_t n)
{
	if (v->errlog >= 0) {
		ssize_t w = write(v->errlog, s, n);
		(void)w;  /* a full disk loses log lines, not the VM */
	}
	if (!v->err && !(v->err = malloc(VM_STDERR_KEEP)))
		return;
	if (v->errlen + n > VM_STDERR_KEEP) {
		size_t drop = v->errlen + n - VM_STDERR_KEEP;
		memmove(v->err, v->err + drop, v->errlen - drop);
		v->errlen -= drop;
	}
	memcpy(v->err + v->errlen, s, n);
	v->errlen += n;
}

static void close_stderr(struct vm *v)
{
	if (v->errfd >= 0) {
		loop_del(v->errfd);
		close(v->errfd);
		v->errfd = -1;
	}
}

static void on_stderr(void *ctx, int fd, uint32_t events)
{
	struct vm *v = ctx;
	char buf[16384];  /* smaller than VM_STDERR_KEEP: keep_stderr relies on it */
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_stderr(v);
			return;
		}
		keep_stderr(v, buf, n);
	}
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
	v->pidfd = v->errfd = v->errlog = -1;
	v->detach = req->detach;
	int rc = spawn_start(req, &v->pid, err, errlen);
	if (rc) {
		*code = rc;
		free(v);
		goto fail;
	}
	v->pidfd = spawn_pidfd(v->pid);
	if (v->pidfd < 0 || loop_add(v->pidfd, EPOLLIN, on_exit_ready, v) < 0) {
		/* without a pidfd nothing would tell the loop that QEMU exited */
		snprintf(err, errlen, "cannot watch QEMU (pidfd_open: %s)", strerror(errno));
		*code = errno ? errno : ENOSYS;
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
	close_stderr(v);
	qmp_free(v->qmp);
	v->qmp = NULL;
	console_free(v->console);
	v->console = NULL;
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
	close_stderr(v);
	if (v->errlog >= 0)
		close(v->errlog);
	qmp_free(v->qmp);
	console_free(v->console);
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

const char *vm_shutdown(struct vm *v, double powerdown)
{
	if (v->exited)
		return "exited";
	if (powerdown >= 0 && v->qmp) {
		double deadline = loop_deadline(powerdown);
		if (vm_qmp_ready(v, deadline) == 1 && qmp_send(v->qmp, "system_powerdown", NULL)) {
			int r = vm_wait(v, deadline);
			if (r == 1)
				return "powerdown";
			if (r < 0)
				return NULL;
		}
	}
	if (v->qmp && qmp_alive(v->qmp)) {
		double deadline = loop_deadline(5);
		if (vm_qmp_ready(v, deadline) == 1 && qmp_send(v->qmp, "quit", NULL)) {
			int r = vm_wait(v, deadline);
			if (r == 1)
				return "quit";
			if (r < 0)
				return NULL;
		}
	}
	if (!v->exited) {
		vm_kill(v, SIGTERM);
		int r = vm_wait(v, loop_deadline(5));
		if (r == 1)
			return "term";
		if (r < 0)
			return NULL;
	}
	if (!v->exited) {
		vm_kill(v, SIGKILL);
		if (vm_wait(v, loop_deadline(5)) == 1)
			return "kill";
		return NULL;
	}
	return "exited";
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
	/* Every step for every VM at once: QMP quit where QMP is ready (the
	 * others get SIGTERM right away: nothing else would stop them), then
	 * SIGTERM, then SIGKILL. */
	for (struct vm *v = all; v; v = v->next) {
		if (v->detach || v->exited)
			continue;
		if (!(v->qmp && v->qmp->state == QMP_READY && qmp_send(v->qmp, "quit", NULL)))
			vm_kill(v, SIGTERM);
	}
	loop_clear_signal();
	loop_run(all_exited, NULL, loop_deadline(timeout / 3));
	for (struct vm *v = all; v; v = v->next)
		if (!v->detach && !v->exited)
			vm_kill(v, SIGTERM);
	loop_clear_signal();
	loop_run(all_exited, NULL, loop_deadline(timeout / 3));
	for (struct vm *v = all; v; v = v->next)
		if (!v->detach && !v->exited)
			vm_kill(v, SIGKILL);
	loop_clear_signal();
	loop_run(all_exited, NULL, loop_deadline(timeout / 3));
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
