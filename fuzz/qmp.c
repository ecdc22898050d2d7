/* fuzz/qmp.c - libFuzzer target: the QMP stream reader of src/qmp.c.
 *
 * The input says which commands are outstanding and where to cut the
 * stream, then is the stream itself (fuzz/README.md has the layout).  Two
 * connections take the same bytes through qmp_feed, one in a single piece
 * and one in the pieces the cuts give; they must end in the same state:
 * the same error text, greeting, replies, events, unanswered ids, unread
 * bytes and bytes sent back (the differential property).  ASan and UBSan
 * watch both, and everything is freed at the end (leaks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp.h"

/* A connection on one end of a socketpair: qmp answers the greeting with
 * qmp_capabilities, and the other end, peer, receives what it sends. */
struct conn {
	struct qmp *q;
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
	c->q = qmp_open(sv[0]);
	if (!c->q) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->peer = sv[1];
	if (qmp_log(c->q, "/dev/null"))  /* note() runs too, as under qmp:log */
		abort();
	return 0;
}

/* What qmp sent so far (a short recv: the socket is non-blocking). */
static void conn_drain(struct conn *c)
{
	ssize_t n;
	while (c->nsent < sizeof c->sent &&
	       (n = recv(c->peer, c->sent + c->nsent, sizeof c->sent - c->nsent, 0)) > 0)
		c->nsent += n;
}

static void conn_close(struct conn *c)
{
	qmp_free(c->q);
	close(c->peer);
}

static void differ(const char *what)
{
	fprintf(stderr, "qmp: one piece and pieces differ: %s\n", what);
	abort();
}

/* The same message: a reply is kept parsed (msg), an event as its text
 * (qmp.h's struct qmp_msg). */
static int same_msg(const struct qmp_msg *a, const struct qmp_msg *b)
{
	if (a->msg || b->msg)
		return a->msg && b->msg && json_equal(a->msg, b->msg);
	return a->len == b->len && !memcmp(a->text, b->text, a->len);
}

/* Same length, same messages in the same order. */
static void same_list(const struct qmp_msg *a, const struct qmp_msg *b, const char *what)
{
	for (; a && b; a = a->next, b = b->next)
		if (!same_msg(a, b))
			differ(what);
	if (a || b)
		differ(what);
}

static void same_state(const struct conn *a, const struct conn *b)
{
	const struct qmp *p = a->q, *q = b->q;
	if (p->state != q->state)
		differ("state");
	if (strcmp(p->error, q->error))
		differ("error text");
	/* the greeting waits as its text */
	if (!p->greeting != !q->greeting ||
	    (p->greeting && (p->greeting_len != q->greeting_len ||
	                     memcmp(p->greeting, q->greeting, p->greeting_len))))
		differ("greeting");
	same_list(p->replies, q->replies, "replies");
	same_list(p->events, q->events, "events");
	if (p->nevents != q->nevents || p->nreceived != q->nreceived)
		differ("message counts");
	if (p->next_id != q->next_id || p->caps_id != q->caps_id)
		differ("command ids");
	/* the same operations in the same order leave the same slots */
	if (p->nsent != q->nsent || (p->nsent && memcmp(p->sent, q->sent, p->nsent * sizeof *p->sent)))
		differ("unanswered ids");
	if (p->nabandoned != q->nabandoned ||
	    (p->nabandoned && memcmp(p->abandoned, q->abandoned, p->nabandoned * sizeof *p->abandoned)))
		differ("abandoned ids");
	/* (after a failure nothing reads them: how many were taken differs) */
	if (qmp_alive(p) && (p->in.len != q->in.len || (p->in.len && memcmp(p->in.buf, q->in.buf, p->in.len))))
		differ("unread bytes");
	if (a->nsent != b->nsent || memcmp(a->sent, b->sent, a->nsent))
		differ("bytes sent");
}

static void broken(const char *what)
{
	fprintf(stderr, "qmp: %s\n", what);
	abort();
}

/* What holds for one connection whatever came in. */
static void check_one(const struct qmp *q)
{
	if (qmp_alive(q) ? q->error[0] != '\0' : !q->error[0])
		broken("an error text, but not failed (or failed without one)");
	if (qmp_alive(q) && q->in.len > QMP_MAX_MESSAGE)
		broken("more unread than one message may be");
	for (const struct qmp_msg *m = q->replies; m; m = m->next)
		if (!json_is_integer(json_object_get(m->msg, "id")))
			broken("a reply without an integer id");
	for (const struct qmp_msg *m = q->events; m; m = m->next) {
		/* kept as text: it must parse again into an object with "event" */
		json_t *ev = m->msg ? NULL : json_loadb(m->text, m->len, 0, NULL);
		if (!json_object_get(ev, "event"))
			broken("an event that is not an object with 'event'");
		json_decref(ev);
	}
	if (q->greeting) {
		json_t *g = qmp_greeting(q);
		if (!json_object_get(g, "QMP"))
			broken("a greeting that is not an object with 'QMP'");
		json_decref(g);
	}
}

/* Input: byte 0: commands sent before the stream (bits 0-1, 0..3) and
 * which of them the caller then stops waiting for (bits 2-4); byte 1: the
 * number of cuts (0..7; 0: byte by byte); then one byte per cut, a piece
 * length of 1..256 (used in turn); then the stream. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int ncmd = data[0] & 3, forget = data[0] >> 2 & 7, ncut = data[1] % 8;
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
		for (int i = 0; i < ncmd; i++)
			qmp_send(both[c]->q, i == 1 ? "query-status" : "cont",
			         i == 2 ? json_pack("{s:s}", "a", "b") : NULL);
		for (int i = 0; i < ncmd; i++)
			if (forget & (1 << i))
				qmp_forget(both[c]->q, (uint64_t)i + 1);
	}

	qmp_feed(one.q, s, n);
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t len = ncut ? (size_t)cuts[k % ncut] + 1 : 1;
		if (len > n - off)
			len = n - off;
		qmp_feed(many.q, s + off, len);
		off += len;
	}

	conn_drain(&one);
	conn_drain(&many);
	check_one(one.q);
	check_one(many.q);
	same_state(&one, &many);

	/* taking what came in leaves both the same too */
	for (uint64_t id = 1; id <= one.q->next_id; id++) {
		json_t *a = qmp_take_reply(one.q, id), *b = qmp_take_reply(many.q, id);
		if (!a != !b || (a && !json_equal(a, b)))
			differ("taken reply");
		json_decref(a);
		json_decref(b);
	}
	json_t *a, *b;
	while ((a = qmp_take_event(one.q)), (b = qmp_take_event(many.q)), a || b) {
		if (!a || !b || !json_equal(a, b))
			differ("taken event");
		json_decref(a);
		json_decref(b);
	}
	same_state(&one, &many);

	conn_close(&one);
	conn_close(&many);
	return 0;
}
