/* qga.c - see qga.h.  The agent ends every message with "\n" and JSON
 * never holds a raw newline or a 0xFF byte (not valid UTF-8), so a message
 * is a line and a 0xFF is a reset mark between lines: lines.c frames them,
 * as it does QMP's. */
#include "qga.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lines.h"
#include "loop.h"

static void on_io(void *ctx, int fd, uint32_t events);
static void flush(struct qga *q);

static void fail(struct qga *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct qga *q, const char *fmt, ...)
{
	if (q->fd < 0)
		return;  /* the first reason is the one to tell */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->error, sizeof q->error, fmt, ap);
	va_end(ap);
	loop_del(q->fd);
	close(q->fd);
	q->fd = -1;
	lines_free(&q->in);  /* nothing more is read or sent */
	outq_free(&q->out);
	q->nreceived++;  /* wake every wait on this connection */
}

struct qga *qga_open(int fd)
{
	struct qga *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->fd = fd;
	q->next_id = 1;
	q->in.max = QGA_MAX_MESSAGE;
	q->in.reset = 1;
	if (loop_add(fd, EPOLLIN, on_io, q) < 0) {
		free(q);
		return NULL;
	}
	return q;
}

void qga_free(struct qga *q)
{
	if (!q)
		return;
	if (q->fd >= 0) {
		loop_del(q->fd);
		close(q->fd);
	}
	while (q->replies) {
		struct qga_msg *m = q->replies;
		q->replies = m->next;
		json_decref(m->msg);
		free(m);
	}
	free(q->wanted);
	lines_free(&q->in);
	outq_free(&q->out);
	free(q);
}

int qga_alive(const struct qga *q)
{
	return q->fd >= 0;
}

/* ---- sending ---------------------------------------------------------------- */

static void want_out(struct qga *q, int on)
{
	if (q->want_out != on && q->fd >= 0) {
		q->want_out = on;
		loop_mod(q->fd, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
	}
}

static void flush(struct qga *q)
{
	if (q->fd < 0)
		return;
	int r = outq_send(&q->out, q->fd);
	if (r < 0)
		fail(q, "agent channel lost while sending (%s)", strerror(errno));
	else
		want_out(q, r == 1);
}

/* Queues one command line (with a leading 0xFF when sync); 0 or -1. */
static int put(struct qga *q, const char *cmd, json_t *args, uint64_t id, int sync)
{
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!msg) {
		json_decref(args);
		return -1;
	}
	if (args)
		json_object_set_new(msg, "arguments", args);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return -1;
	int r = (sync ? outq_put(&q->out, "\xff", 1) : 0) || outq_put(&q->out, text, strlen(text)) ||
	        outq_put(&q->out, "\n", 1);
	free(text);
	if (r)
		return -1;
	if (!q->want_out)
		flush(q);
	return 0;
}

uint64_t qga_sync(struct qga *q, int new_round)
{
	if (q->fd < 0)
		return 0;
	uint64_t id = q->next_id++;
	if (new_round || !q->sync_from) {
		q->sync_from = id;
		q->synced = 0;
	}
	q->sync_to = id;
	q->in.discard = 1;  /* what comes before the reply's 0xFF is stale */
	if (put(q, "guest-sync-delimited", json_pack("{s:I}", "id", (json_int_t)id), id, 1) < 0) {
		fail(q, "out of memory writing to the agent");
		return 0;
	}
	return id;
}

uint64_t qga_send(struct qga *q, const char *cmd, json_t *args)
{
	if (q->fd < 0) {
		json_decref(args);
		return 0;
	}
	uint64_t id = q->next_id++;
	if (ids_add(&q->wanted, &q->nwanted, id) < 0 || put(q, cmd, args, id, 0) < 0) {
		ids_take(q->wanted, q->nwanted, id);
		fail(q, "out of memory writing to the agent");
		return 0;
	}
	return id;
}

/* ---- receiving -------------------------------------------------------------- */

static void handle(struct qga *q, json_t *msg)
{
	json_t *jid = json_object_get(msg, "id");
	uint64_t id = json_is_integer(jid) ? (uint64_t)json_integer_value(jid) : 0;
	if (id && id >= q->sync_from && id <= q->sync_to) {
		json_t *ret = json_object_get(msg, "return");
		if (json_is_integer(ret) && (uint64_t)json_integer_value(ret) == id)
			q->synced = 1;
		json_decref(msg);
		return;
	}
	/* Only replies someone waits for are kept: stale ones (to commands
	 * sent before a timeout, or by an earlier client) and the agent's
	 * id-less complaints about the 0xFF are dropped. */
	if (!id || !ids_take(q->wanted, q->nwanted, id)) {
		json_decref(msg);
		return;
	}
	struct qga_msg *m = malloc(sizeof *m);
	if (!m) {
		json_decref(msg);
		fail(q, "out of memory reading from the agent");
		return;
	}
	m->msg = msg;
	m->next = q->replies;
	q->replies = m;
}

/* Takes every whole line received (lines.c frames them, 0xFF marks and
 * all). */
static void parse(struct qga *q)
{
	const char *line;
	size_t len;
	int r;
	while ((r = lines_next(&q->in, &line, &len)) > 0) {
		if (!len)
			continue;
		json_error_t jerr;
		json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (msg && json_is_object(msg)) {
			q->nreceived++;
			handle(q, msg);
			if (q->fd < 0)
				return;
		} else {
			json_decref(msg);  /* garbage in a stale stream: its reply is not ours */
		}
	}
	if (r < 0 || lines_compact(&q->in) < 0)
		fail(q, "a message from the agent is larger than %u MiB", QGA_MAX_MESSAGE >> 20);
}

static void receive(struct qga *q)
{
	for (;;) {
		int more;
		long n = lines_recv(&q->in, q->fd, &more);
		if (n < 0) {
			if (errno == ENOMEM)
				fail(q, "out of memory reading from the agent");
			else if (errno != EAGAIN)
				fail(q, "agent channel lost (%s)", strerror(errno));
			return;
		}
		if (n == 0) {
			fail(q, "agent channel closed by QEMU");
			return;
		}
		parse(q);
		if (q->fd < 0 || !more)
			return;
	}
}

void qga_feed(struct qga *q, const void *buf, size_t n)
{
	const char *p = buf;
	while (n && q->fd >= 0) {
		if (lines_room(&q->in) < 0) {
			fail(q, "out of memory reading from the agent");
			return;
		}
		size_t k = q->in.cap - q->in.len < n ? q->in.cap - q->in.len : n;
		memcpy(q->in.buf + q->in.len, p, k);
		q->in.len += k;
		parse(q);
		p += k;
		n -= k;
	}
}

static void on_io(void *ctx, int fd, uint32_t events)
{
	struct qga *q = ctx;
	if (events & EPOLLOUT)
		flush(q);
	if (q->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		receive(q);
}

/* ---- taking ------------------------------------------------------------------ */

json_t *qga_take_reply(struct qga *q, uint64_t id)
{
	for (struct qga_msg **p = &q->replies; *p; p = &(*p)->next) {
		if ((uint64_t)json_integer_value(json_object_get((*p)->msg, "id")) == id) {
			struct qga_msg *m = *p;
			json_t *msg = m->msg;
			*p = m->next;
			free(m);
			return msg;
		}
	}
	return NULL;
}

void qga_forget(struct qga *q, uint64_t id)
{
	json_t *late = qga_take_reply(q, id);
	if (late)
		json_decref(late);
	else
		ids_take(q->wanted, q->nwanted, id);
	q->synced = 0;
	q->sync_from = q->sync_to = 0;  /* the next command starts a new round */
}

/* ---- base64 ------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *qga_b64_encode(const void *data, size_t n)
{
	const unsigned char *s = data;
	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = s[i] << 16 | s[i + 1] << 8 | s[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		*o++ = b64[v & 63];
	}
	if (i < n) {
		unsigned v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0);
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int qga_b64_decode(const char *s, size_t n, char **out, size_t *outn)
{
	if (n % 4)
		return -1;
	char *buf = malloc(n / 4 * 3 + 1), *o = buf;
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]), d = b64val(s[i + 3]);
		int last = i + 4 == n;
		int pad2 = last && s[i + 2] == '=' && s[i + 3] == '=';
		int pad1 = last && !pad2 && s[i + 3] == '=';
		if (a < 0 || b < 0 || (c < 0 && !pad2) || (d < 0 && !pad1 && !pad2)) {
			free(buf);
			return -1;
		}
		*o++ = (char)(a << 2 | b >> 4);
		if (!pad2)
			*o++ = (char)((b & 15) << 4 | c >> 2);
		if (!pad1 && !pad2)
			*o++ = (char)((c & 3) << 6 | d);
	}
	*o = '\0';
	*out = buf;
	*outn = o - buf;
	return 0;
}
