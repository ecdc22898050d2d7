/* lines.h - what the two line protocols share: QMP (qmp.c) and the guest
 * agent (qga.c) both send one JSON message per line, so both keep what
 * arrived in one of these and take whole lines out of it, queue what they
 * send in a growing buffer and send it without blocking (struct outq), and
 * keep the ids of commands in flight.  Plain C.
 *
 * A line may be `max` bytes long (its bytes before the '\n'); a longer one,
 * or the start of one, is an error the caller reports (the same whether the
 * bytes come in one piece or many: it is checked on lines, never on how
 * full the buffer happens to be).  For the agent a 0xFF byte is a reset
 * mark: what came before it on its line is dropped (and is held to the
 * same limit: it was the start of a line until the 0xFF came), and while
 * `discard` is set everything up to the next 0xFF is. */
#ifndef QLUA_LINES_H
#define QLUA_LINES_H

#include <stddef.h>
#include <stdint.h>

struct lines {
	char *buf;
	size_t len, cap;
	size_t start;     /* where the line not taken yet begins */
	size_t scanned;   /* how far it was searched for its end */
	size_t max;       /* the longest line */
	int reset;        /* 0xFF is a reset mark (the agent) */
	int discard;      /* dropping bytes until the next 0xFF (set by the agent's sync) */
};

/* Room for the next bytes at buf + len: at least 2 KiB (a 4 KiB buffer
 * at first), the buffer doubling as it fills, up to what a line of max bytes needs.  0, or -1
 * when memory ran out. */
int lines_room(struct lines *b);
/* Reads from the socket fd straight into the buffer (a reply can be
 * hundreds of MiB, so it is not copied on the way): room made
 * (lines_room), then one recv, again when a signal interrupts it.  The
 * bytes read, with *more set when they filled the room (the socket may
 * hold more: read again; else it is empty); 0 when the peer closed (a
 * reset too: ECONNRESET is a close with bytes of ours unread); -1
 * with errno set: EAGAIN, nothing more now; ENOMEM, no room could be
 * made. */
long lines_recv(struct lines *b, int fd, int *more);
/* The next whole line, its "\n" (and a "\r" before it) cut off: 1 with
 * *line and *len set (valid until the next lines_room or lines_compact);
 * 0 when no whole line is left; -1 when a line, or the stale bytes before
 * a 0xFF, are longer than max. */
int lines_next(struct lines *b, const char **line, size_t *len);
/* After the lines were taken: keeps only the line not finished yet.  0, or
 * -1 when it is already longer than max. */
int lines_compact(struct lines *b);
void lines_free(struct lines *b);

/* The sending side: the bytes queued and not sent yet, and at most one
 * descriptor to pass (SCM_RIGHTS) with the byte at fd_at (QMP's getfd and
 * add-fd; the agent never passes one).  All zero is an empty queue. */
struct outq {
	char *buf;
	size_t len, cap;
	size_t off;       /* bytes already sent */
	int has_fd, fd;   /* fd (owned) goes with the byte at fd_at */
	size_t fd_at;
};

/* Appends n bytes of s; the buffer doubles as it fills.  0, or -1 when
 * memory ran out. */
int outq_put(struct outq *o, const char *s, size_t n);
/* Takes fd (owned from now on) to pass with the next byte put. */
void outq_pass_fd(struct outq *o, int fd);
/* Sends what the socket takes without blocking: 0 when all is sent (the
 * buffer is freed: an idle channel keeps no queue), 1 when the socket is
 * full (send again when it is writable), 2 when the peer has closed its
 * end (EPIPE, ECONNRESET: what was not sent is dropped; what the peer sent
 * before closing is still to be read, and reading on ends at its end of
 * file, which is the failure to tell), -1 with errno set when the send
 * failed otherwise. */
int outq_send(struct outq *o, int sock);
/* Drops what was not sent, and the descriptor. */
void outq_free(struct outq *o);

/* Ids of commands sent and not answered yet: a list of *n slots, 0 a free
 * one.  ids_add: 0, or -1 when memory ran out; ids_take: 1 when id was
 * there (its slot is free again), else 0. */
int ids_add(uint64_t **v, int *n, uint64_t id);
int ids_take(uint64_t *v, int n, uint64_t id);

#endif
