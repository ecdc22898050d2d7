/* console.c - see console.h. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdutil.h"
#include "loop.h"

static void stop(struct console *c)
{
	if (c->fd >= 0) {
		loop_del(c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->eof = 1;
}

static void keep(struct console *c, const char *s, size_t n)
{
	if (c->logfd >= 0)
		log_append(&c->logfd, c->logpath, "the console", s, n);
	if (!c->ring && !(c->ring = malloc(CONSOLE_RING))) {
		stop(c);  /* out of memory: the console ends here, as if QEMU closed it */
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t at = c->total % CONSOLE_RING, room = CONSOLE_RING - at;
		size_t k = n - i < room ? n - i : room;
		memcpy(c->ring + at, s + i, k);
		c->total += k;
		i += k;
	}
}

static void flush(struct console *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			stop(c);
			return;
		}
		c->outoff += n;
	}
	c->outoff = c->outlen = 0;
	loop_mod(c->fd, EPOLLIN);
}

static void on_io(void *ctx, int fd, uint32_t events)
{
	struct console *c = ctx;
	if (events & EPOLLOUT)
		flush(c);
	if (c->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	char buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stop(c);
			return;
		}
		keep(c, buf, n);
		if (c->fd < 0)
			return;
	}
}

struct console *console_open(int fd)
{
	struct console *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	/* The ring is allocated when the first byte arrives: a console that
	 * never prints (QEMU -machine none, a guest not started yet) costs no
	 * page of it. */
	c->fd = fd;
	c->logfd = -1;
	if (loop_add(fd, EPOLLIN, on_io, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	stop(c);
	if (c->logfd >= 0)
		close(c->logfd);
	free(c->logpath);
	free(c->ring);
	free(c->out);
	free(c);
}

char *console_text(struct console *c, uint64_t from, size_t *len, uint64_t *start)
{
	uint64_t oldest = c->total > CONSOLE_RING ? c->total - CONSOLE_RING : 0;
	if (from < oldest)
		from = oldest;
	if (from > c->total)
		from = c->total;
	size_t n = c->total - from;
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t at = (from + i) % CONSOLE_RING, k = CONSOLE_RING - at;
		if (k > n - i)
			k = n - i;
		memcpy(buf + i, c->ring + at, k);
		i += k;
	}
	buf[n] = '\0';
	*len = n;
	*start = from;
	return buf;
}

int console_send(struct console *c, const char *s, size_t n)
{
	if (c->fd < 0)
		return -1;
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap < c->outlen + n)
			cap *= 2;
		char *nb = realloc(c->out, cap);
		if (!nb)
			return -1;
		c->out = nb;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
	flush(c);
	if (c->fd >= 0 && c->outlen)
		loop_mod(c->fd, EPOLLIN | EPOLLOUT);
	return c->fd >= 0 ? 0 : -1;
}

int console_log(struct console *c, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return errno;
	if (c->logfd >= 0)
		close(c->logfd);
	c->logfd = fd;
	free(c->logpath);
	c->logpath = strdup(path);
	size_t n;
	uint64_t start;
	char *text = console_text(c, 0, &n, &start);
	if (text) {
		log_append(&c->logfd, c->logpath, "the console", text, n);
		free(text);
	}
	return 0;
}
