/* qga.h - one connection to the QEMU guest agent (qemu-ga) over the host end
 * of its virtio-serial port: framing, synchronisation, commands with ids and
 * their replies, and base64.  Plain C; JSON through jansson, never by hand.
 * Driven by the event loop (loop.h), like qmp.c.
 *
 * The agent speaks QMP's JSON without a greeting or capabilities.  The
 * stream may hold stale bytes (replies to an earlier client, a half-read
 * command in the agent's parser, commands queued while no agent ran), so
 * the client synchronises first and after any timeout: it sends a 0xFF byte
 * (the agent's parser resets on it) and guest-sync-delimited with a fresh
 * id; the agent answers with 0xFF before that reply.  Bytes before the
 * first 0xFF and replies to ids nobody waits for are dropped. */
#ifndef QLUA_QGA_H
#define QLUA_QGA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lines.h"

/* A message may be this big: guest-exec-status carries up to 16 MiB of
 * output per stream, base64-encoded (~22 MiB each).  The fuzzer
 * (fuzz/qga.c) builds with a small one its inputs can reach. */
#ifndef QGA_MAX_MESSAGE
#define QGA_MAX_MESSAGE (256u << 20)
#endif

struct qga_msg {
	json_t *msg;
	struct qga_msg *next;
};

struct qga {
	int fd;                   /* -1 once closed */
	char error[512];          /* why it closed */
	int synced;               /* a sync of this round was answered */
	uint64_t sync_from, sync_to;  /* ids of this round's syncs */
	struct lines in;          /* bytes received (in.discard: dropping them until a 0xFF) */
	struct outq out;          /* bytes to send */
	int want_out;             /* the loop watches for "writable" */
	uint64_t next_id;
	uint64_t *wanted;         /* ids whose replies are kept (0: a free slot) */
	int nwanted;
	struct qga_msg *replies;  /* kept replies not yet taken */
	uint64_t nreceived;       /* messages received: waits watch this change */
};

/* Takes over fd (a connected stream socket) and watches it in the loop;
 * NULL when out of memory (fd is then the caller's). */
struct qga *qga_open(int fd);
/* Stops watching, closes the socket, frees everything. */
void qga_free(struct qga *q);
int qga_alive(const struct qga *q);

/* Starts a synchronisation round, or sends one more try of the current one
 * (the agent may not have been running when the last one went out): a 0xFF
 * byte and guest-sync-delimited with a fresh id.  q->synced becomes 1 when
 * any try of the round is answered.  0 when the connection is closed. */
uint64_t qga_sync(struct qga *q, int new_round);

/* Queues {"execute": cmd, "arguments": args, "id": N} (args may be NULL;
 * it is consumed) and keeps its reply.  Returns N, or 0 when closed. */
uint64_t qga_send(struct qga *q, const char *cmd, json_t *args);
/* The reply with that id (the caller owns it), or NULL if not here yet. */
json_t *qga_take_reply(struct qga *q, uint64_t id);
/* The caller stopped waiting for id: its reply is dropped when it comes,
 * and the stream must be synchronised again before the next command. */
void qga_forget(struct qga *q, uint64_t id);

/* Takes n bytes as if they had come from the socket: what the loop does
 * with what it reads, without the loop (fuzz/qga.c feeds it). */
void qga_feed(struct qga *q, const void *buf, size_t n);

/* Base64 (RFC 4648, with padding).  encode: a NUL-terminated string
 * (malloc'd; NULL when out of memory).  decode: 0 and a malloc'd buffer
 * (*out, *outn bytes, NUL-terminated), or -1 when s is not base64 (or out
 * of memory). */
char *qga_b64_encode(const void *data, size_t n);
int qga_b64_decode(const char *s, size_t n, char **out, size_t *outn);

#endif
