/* lines.c - see lines.h. */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A channel starts with a small buffer that doubles as replies grow: most
 * only ever carry a greeting and short replies, and a supervisor of
 * hundreds of VMs keeps one per VM (a 128 KiB start cost each VM two
 * touched pages of its own mapping).  Room never drops below ROOM, and
 * after a doubling it is at least half the buffer, so a reply of many MiB
 * still arrives in few, large reads. */
#define ROOM 2048
#define START 4096

int lines_room(struct lines *b)
{
	if (b->cap - b->len >= ROOM)
		return 0;
	size_t cap = b->cap ? b->cap * 2 : START;
	if (cap > b->max + ROOM)
		cap = b->max + ROOM;
	char *nb = realloc(b->buf, cap);
	if (!nb)
		return -1;
	b->buf = nb;
	b->cap = cap;
	return 0;
}

long lines_recv(struct lines *b, int fd, int *more)
{
	if (lines_room(b) < 0) {
		errno = ENOMEM;
		return -1;
	}
	size_t room = b->cap - b->len;
	ssize_t n;
	do
		n = recv(fd, b->buf + b->len, room, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	/* ECONNRESET is the peer closing its end with bytes of ours unread:
	 * QEMU's QMP reads a byte at a time, so a quit can leave a client's
	 * last "\n", and a guest agent port removed with a command queued
	 * leaves the command.  The same end as end of file. */
	if (n < 0 && errno == ECONNRESET)
		n = 0;
	if (n > 0)
		b->len += n;
	*more = n > 0 && (size_t)n == room;
	return n;
}

int lines_next(struct lines *b, const char **line, size_t *len)
{
	if (!b->buf)
		return 0;
	if (b->discard) {
		char *ff = memchr(b->buf + b->start, 0xff, b->len - b->start);
		if (!ff) {
			b->start = b->scanned = b->len;
			return 0;
		}
		b->discard = 0;
		b->start = b->scanned = (size_t)(ff - b->buf) + 1;
	}
	for (;;) {
		char *p = b->buf + b->scanned, *end = b->buf + b->len;
		if (b->reset) {
			while (p < end && *p != '\n' && (unsigned char)*p != 0xff)
				p++;
		} else if (!(p = memchr(p, '\n', (size_t)(end - p)))) {
			p = end;
		}
		if (p == end) {
			b->scanned = b->len;
			return 0;
		}
		size_t next = (size_t)(p - b->buf) + 1;
		if ((unsigned char)*p == 0xff) {  /* what came before it on this line is stale */
			/* but not longer than a line may be: in pieces, its start
			 * alone would have been refused (lines_compact) */
			if ((size_t)(p - (b->buf + b->start)) > b->max)
				return -1;
			b->start = b->scanned = next;
			continue;
		}
		size_t n = (size_t)(p - (b->buf + b->start));
		if (n > b->max)
			return -1;
		*line = b->buf + b->start;
		if (n && (*line)[n - 1] == '\r')
			n--;
		*len = n;
		b->start = b->scanned = next;
		return 1;
	}
}

int lines_compact(struct lines *b)
{
	if (b->start == b->len) {
		/* Everything was taken: an idle channel keeps no buffer (a
		 * supervisor of hundreds of idle VMs would keep one each). */
		lines_free(b);
		return 0;
	}
	if (b->start) {
		memmove(b->buf, b->buf + b->start, b->len - b->start);
		b->len -= b->start;
		b->scanned -= b->start;
		b->start = 0;
	}
	return b->len > b->max ? -1 : 0;
}

void lines_free(struct lines *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = b->start = b->scanned = 0;
}

int outq_put(struct outq *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		size_t c = o->cap ? o->cap : 4096;
		while (c < o->len + n)
			c *= 2;
		char *nb = realloc(o->buf, c);
		if (!nb)
			return -1;
		o->buf = nb;
		o->cap = c;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

void outq_pass_fd(struct outq *o, int fd)
{
	o->has_fd = 1;
	o->fd = fd;
	o->fd_at = o->len;
}

/* Sends the byte at fd_at alone, with the descriptor attached; once it
 * went, the descriptor is QEMU's and ours is closed. */
static ssize_t send_with_fd(struct outq *o, int sock)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { o->buf + o->off, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	memset(ctl, 0, sizeof ctl);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &o->fd, sizeof(int));
	ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		close(o->fd);
		o->has_fd = 0;
	}
	return n;
}

int outq_send(struct outq *o, int sock)
{
	while (o->off < o->len) {
		size_t len = o->len - o->off;
		if (o->has_fd && o->fd_at > o->off && o->fd_at - o->off < len)
			len = o->fd_at - o->off;  /* up to the byte that carries the fd */
		ssize_t n = o->has_fd && o->fd_at == o->off
		            ? send_with_fd(o, sock)
		            : send(sock, o->buf + o->off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET) {
				outq_free(o);
				return 2;
			}
			return errno == EAGAIN ? 1 : -1;
		}
		o->off += n;
	}
	free(o->buf);
	o->buf = NULL;
	o->off = o->len = o->cap = 0;
	return 0;
}

void outq_free(struct outq *o)
{
	if (o->has_fd)
		close(o->fd);
	free(o->buf);
	*o = (struct outq){ 0 };
}

int ids_add(uint64_t **v, int *n, uint64_t id)
{
	for (int i = 0; i < *n; i++)
		if (!(*v)[i]) {
			(*v)[i] = id;
			return 0;
		}
	uint64_t *nv = realloc(*v, (*n + 8) * sizeof *nv);
	if (!nv)
		return -1;
	memset(nv + *n, 0, 8 * sizeof *nv);
	nv[*n] = id;
	*v = nv;
	*n += 8;
	return 0;
}

int ids_take(uint64_t *v, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (v[i] == id) {
			v[i] = 0;
			return 1;
		}
	return 0;
}
