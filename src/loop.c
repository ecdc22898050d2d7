/* loop.c - see loop.h.  epoll over registered descriptors, plus a self-pipe
 * that the signal handler writes to, so a signal ends a wait at once. */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct watch {
	int fd;
	loop_cb cb;
	void *ctx;
	struct watch *next;
};

static int epfd = -1;
static struct watch *watches;       /* a short list: a few fds per VM */
static int sigpipe[2] = { -1, -1 };
static volatile sig_atomic_t caught;
static unsigned long handled;
static void (*also_on_signal)(int sig);

static int init(void)
{
	if (epfd >= 0)
		return 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

double loop_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double loop_deadline(double timeout)
{
	return timeout < 0 ? -1 : loop_now() + timeout;
}

static struct watch *find(int fd)
{
	for (struct watch *w = watches; w; w = w->next)
		if (w->fd == fd)
			return w;
	return NULL;
}

int loop_add(int fd, uint32_t events, loop_cb cb, void *ctx)
{
	if (init() < 0)
		return -1;
	struct watch *w = malloc(sizeof *w);
	if (!w)
		return -1;
	*w = (struct watch){ fd, cb, ctx, watches };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(w);
		return -1;
	}
	watches = w;
	return 0;
}

int loop_mod(int fd, uint32_t events)
{
	struct watch *w = find(fd);
	if (!w)
		return -1;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Events already fetched for a watch that is deleted in the same round must
 * not reach it: deleted watches are only unlinked here and freed after the
 * round (see loop_run). */
static struct watch *graveyard;

void loop_del(int fd)
{
	for (struct watch **p = &watches; *p; p = &(*p)->next) {
		if ((*p)->fd != fd)
			continue;
		struct watch *w = *p;
		*p = w->next;
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		w->cb = NULL;
		w->next = graveyard;
		graveyard = w;
		return;
	}
}

static void bury(void)
{
	while (graveyard) {
		struct watch *w = graveyard;
		graveyard = w->next;
		free(w);
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	/* The first signal decides qlua's status (128 + it) and what the
	 * interrupted wait says; a later one (Ctrl-C again while the VMs are
	 * being stopped) only ends the wait at hand.  Overwriting would make the
	 * status depend on how fast the second one came. */
	if (!caught)
		caught = sig;
	if (also_on_signal)
		also_on_signal(sig);
	if (sigpipe[1] >= 0) {
		ssize_t r = write(sigpipe[1], "", 1);
		(void)r;
	}
	errno = saved;
}

static void drain_sigpipe(void *ctx, int fd, uint32_t events)
{
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

void loop_watch_signals(void (*also)(int sig))
{
	also_on_signal = also;
	if (sigpipe[0] >= 0 || init() < 0)
		return;
	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	loop_add(sigpipe[0], EPOLLIN, drain_sigpipe, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- child exits without pidfds --------------------------------------------- */

static int chldpipe[2] = { -1, -1 };
static void (*on_children)(void);

static void on_sigchld(int sig)
{
	int saved = errno;
	ssize_t r = write(chldpipe[1], "", 1);
	(void)r;  /* full: a wake-up is already pending */
	errno = saved;
}

static void drain_chldpipe(void *ctx, int fd, uint32_t events)
{
	drain_sigpipe(ctx, fd, events);
	on_children();
}

int loop_watch_children(void (*cb)(void))
{
	if (chldpipe[0] >= 0)
		return 0;
	if (init() < 0 || pipe2(chldpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	on_children = cb;
	if (loop_add(chldpipe[0], EPOLLIN, drain_chldpipe, NULL) < 0) {
		close(chldpipe[0]);
		close(chldpipe[1]);
		chldpipe[0] = chldpipe[1] = -1;
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;  /* exits only; no EINTR for the host program */
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGCHLD, &sa, NULL);
}

int loop_signal(void)
{
	return caught;
}

void loop_clear_signal(void)
{
	caught = 0;
}

int loop_round(double deadline)
{
	if (init() < 0)
		return -1;
	if (caught)
		return -1;
	int ms = -1;
	if (deadline >= 0) {
		double left = deadline - loop_now();
		ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
	}
	struct epoll_event evs[32];
	int n = epoll_wait(epfd, evs, 32, ms);
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		if (w->cb)
			w->cb(w->ctx, w->fd, evs[i].events);
	}
	if (n > 0)
		handled += n;
	bury();
	return caught ? -1 : 0;
}

unsigned long loop_events(void)
{
	return handled;
}

int loop_run(int (*done)(void *ctx), void *ctx, double deadline)
{
	for (;;) {
		if (done && done(ctx))
			return 1;
		/* past the deadline: one more look at what is ready, without waiting */
		int last = deadline >= 0 && loop_now() >= deadline;
		if (loop_round(deadline) < 0)
			return -1;
		if (last)
			return done && done(ctx) ? 1 : 0;
	}
}
