/* foreground.c - see foreground.h. */
#include "foreground.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "spawn.h"

static volatile sig_atomic_t child, pending, first;

/* Only async-signal-safe work here: pass the signal on, or keep it for the
 * moment QEMU exists.  The first one is the user's interruption, which
 * decides qlua's status whatever QEMU then exits with. */
static void forward(int sig)
{
	if (!first)
		first = sig;
	if (child > 0)
		kill(child, sig);
	else
		pending = sig;
}

int foreground_run(char *const *argv, const int *fds, int nfds, const struct spawn_ids *ids,
                   char *err, size_t errlen)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old[3];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	/* Installed before the spawn so a signal arriving in between is not
	 * lost: it is kept in `pending` and sent once QEMU exists. */
	first = pending = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);

	struct spawn_req req = {
		.path = argv[0], .argv = argv, .fds = fds, .nfds = nfds,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
		.set_uid = ids->set_uid, .uid = ids->uid, .set_gid = ids->set_gid, .gid = ids->gid,
		.set_groups = ids->set_groups, .groups = ids->groups, .ngroups = ids->ngroups,
	};
	pid_t pid;
	int rc = spawn_start(&req, &pid, err, errlen);
	int status = 0;
	if (rc) {
		/* 126/127 only when QEMU could not be executed (spawn.h) */
		status = rc > 0 ? spawn_exit_code(rc) : FOREGROUND_NOT_STARTED;
	} else {
		child = pid;
		if (pending)
			kill(pid, pending);
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		child = 0;
		status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		/* QEMU exits 0 once it handled SIGINT/SIGTERM/SIGHUP: that status
		 * would let `qlua vm.lua && next-step` go on after a Ctrl-C */
		if (first)
			status = 128 + first;
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return status;
}
