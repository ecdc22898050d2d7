/* fuzz/qga.c - libFuzzer target: the guest agent's stream reader of
 * src/qga.c.  What the agent sends comes from inside the guest, so a guest
 * that is not ours (or not well) writes these bytes.
 *
 * The input says which commands and synchronisations are outstanding and
 * where to cut the stream, then is the stream itself (fuzz/README.md has
 * the layout).  Two connections take the same bytes through qga_feed, one
 * in a single piece and one in the pieces the cuts give; they must end in
 * the same state: the same error text, synchronisation, kept replies, ids
 * still wanted, unread bytes and bytes sent (the differential property).
 * ASan and UBSan watch both, and everything is freed at the end (leaks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qga.h"

/* A connection on one end of a socketpair; peer receives what it sends. */
struct conn {
	struct qga *q;
	int peer;
	char sent[4096];
	size_t nsent;
};

static int conn_open(struct conn *c)
{
	int sv[2];
	memset(c, 0, sizeof *c);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	c->q = qga_open(sv[0]);
	if (!c->q) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->peer = sv[1];
	return 0;
}

/* What qga sent so far (a short recv: the socket is non-blocking). */
static void conn_drain(struct conn *c)
{
	ssize_t n;
	while (c->nsent < sizeof c->sent &&
	       (n = recv(c->peer, c->sent + c->nsent, sizeof c->sent - c->nsent, 0)) > 0)
		c->nsent += n;
}

static void conn_close(struct conn *c)
{
	qga_free(c->q);
	close(c->peer);
}

static void differ(const char *what)
{
	fprintf(stderr, "qga: one piece and pieces differ: %s\n", what);
	abort();
}

static void broken(const char *what)
{
	fprintf(stderr, "qga: %s\n", what);
	abort();
}

static void same_state(const struct conn *a, const struct conn *b)
{
	const struct qga *p = a->q, *q = b->q;
	if (qga_alive(p) != qga_alive(q))
		differ("alive");
	if (strcmp(p->error, q->error))
		differ("error text");
	if (p->synced != q->synced || p->sync_from != q->sync_from || p->sync_to != q->sync_to)
		differ("synchronisation");
	if (p->nreceived != q->nreceived || p->next_id != q->next_id)
		differ("message counts");
	const struct qga_msg *m = p->replies, *n = q->replies;
	for (; m && n; m = m->next, n = n->next)
		if (!json_equal(m->msg, n->msg))
			differ("replies");
	if (m || n)
		differ("replies");
	/* the same operations in the same order leave the same slots */
	if (p->nwanted != q->nwanted || (p->nwanted && memcmp(p->wanted, q->wanted, p->nwanted * sizeof *p->wanted)))
		differ("wanted ids");
	/* (after a failure nothing reads them: how many were taken differs) */
	if (qga_alive(p) && (p->in.discard != q->in.discard || p->in.len != q->in.len ||
	                     (p->in.len && memcmp(p->in.buf, q->in.buf, p->in.len))))
		differ("unread bytes");
	if (a->nsent != b->nsent || memcmp(a->sent, b->sent, a->nsent))
		differ("bytes sent");
}

/* What holds for one connection whatever came in. */
static void check_one(const struct qga *q)
{
	if (qga_alive(q) ? q->error[0] != '\0' : !q->error[0])
		broken("an error text, but not failed (or failed without one)");
	if (qga_alive(q) && q->in.len > QGA_MAX_MESSAGE)
		broken("more unread than one message may be");
	for (const struct qga_msg *m = q->replies; m; m = m->next) {
		json_t *id = json_object_get(m->msg, "id");
		if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
		    (uint64_t)json_integer_value(id) >= q->next_id)
			broken("a kept reply whose id was never sent");
		if ((uint64_t)json_integer_value(id) >= q->sync_from && (uint64_t)json_integer_value(id) <= q->sync_to &&
		    q->sync_from)
			broken("a sync's reply kept as a command's");
	}
}

/* Input: byte 0: commands sent before the stream (bits 0-1, 0..3), a
 * synchronisation before them (bit 2) and a new one after them (bit 3), which
 * commands the caller then stops waiting for (bits 4-6); byte 1: the number
 * of cuts (0..7; 0: byte by byte); then one byte per cut, a piece length
 * of 1..256 (used in turn); then the stream. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int ncmd = data[0] & 3, sync_before = data[0] >> 2 & 1, sync_after = data[0] >> 3 & 1;
	int forget = data[0] >> 4 & 7, ncut = data[1] % 8;
	if (size < 2 + (size_t)ncut)
		return 0;
	const uint8_t *cuts = data + 2, *s = data + 2 + ncut;
	size_t n = size - 2 - ncut;

	struct conn one, many;
	if (conn_open(&one) < 0)
		return 0;
	if (conn_open(&many) < 0) {
		conn_close(&one);
		return 0;
	}
	struct conn *both[2] = { &one, &many };
	for (int c = 0; c < 2; c++) {
		struct qga *q = both[c]->q;
		uint64_t ids[3] = { 0 };
		if (sync_before)
			qga_sync(q, 1);
		for (int i = 0; i < ncmd; i++)
			ids[i] = qga_send(q, i == 1 ? "guest-ping" : "guest-info",
			                  i == 2 ? json_pack("{s:s}", "a", "b") : NULL);
		if (sync_after)  /* a new round: qlua sends commands only in sync */
			qga_sync(q, 1);
		for (int i = 0; i < ncmd; i++)
			if (forget & (1 << i))
				qga_forget(q, ids[i]);
	}

	qga_feed(one.q, s, n);
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t len = ncut ? (size_t)cuts[k % ncut] + 1 : 1;
		if (len > n - off)
			len = n - off;
		qga_feed(many.q, s + off, len);
		off += len;
	}

	conn_drain(&one);
	conn_drain(&many);
	check_one(one.q);
	check_one(many.q);
	same_state(&one, &many);

	/* taking what came in leaves both the same too */
	for (uint64_t id = 1; id <= one.q->next_id; id++) {
		json_t *a = qga_take_reply(one.q, id), *b = qga_take_reply(many.q, id);
		if (!a != !b || (a && !json_equal(a, b)))
			differ("taken reply");
		json_decref(a);
		json_decref(b);
	}
	same_state(&one, &many);

	conn_close(&one);
	conn_close(&many);
	return 0;
}
