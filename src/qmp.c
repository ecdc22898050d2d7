/* qmp.c - see qmp.h.  QEMU ends every message with "\r\n" and never puts a
 * raw newline inside one (JSON escapes it), so a message is a line
 * (lines.c frames them, as it does the agent's). */
#include "qmp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdutil.h"
#include "lines.h"
#include "loop.h"

static void on_io(void *ctx, int fd, uint32_t events);
static void flush(struct qmp *q);

static void fail(struct qmp *q, enum qmp_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct qmp *q, enum qmp_state st, const char *fmt, ...)
{
	if (q->state == QMP_CLOSED || q->state == QMP_BROKEN)
		return;  /* the first reason is the one to tell */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->error, sizeof q->error, fmt, ap);
	va_end(ap);
	q->state = st;
	if (q->fd >= 0) {
		loop_del(q->fd);
		close(q->fd);
		q->fd = -1;
	}
	/* Nothing more is read or sent: a closed channel keeps no buffers
	 * (the events and replies already taken out of them stay). */
	lines_free(&q->in);
	outq_free(&q->out);
	q->nreceived++;  /* wake every wait on this connection */
}

struct qmp *qmp_open(int fd)
{
	struct qmp *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->fd = fd;
	q->logfd = -1;
	q->next_id = 1;
	q->events_tail = &q->events;
	q->in.max = QMP_MAX_MESSAGE;
	if (loop_add(fd, EPOLLIN, on_io, q) < 0) {
		free(q);
		return NULL;
	}
	return q;
}

static void free_list(struct qmp_msg *m)
{
	while (m) {
		struct qmp_msg *next = m->next;
		json_decref(m->msg);
		free(m->text);
		free(m);
		m = next;
	}
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0) {
		loop_del(q->fd);
		close(q->fd);
	}
	if (q->logfd >= 0)
		close(q->logfd);
	free(q->logpath);
	free(q->greeting);
	free_list(q->replies);
	free_list(q->events);
	free(q->sent);
	free(q->abandoned);
	lines_free(&q->in);
	outq_free(&q->out);
	free(q);
}

int qmp_alive(const struct qmp *q)
{
	return q->state == QMP_GREETING || q->state == QMP_NEGOTIATING || q->state == QMP_READY;
}

int qmp_log(struct qmp *q, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0)
		return errno;
	char *copy = strdup(path);
	if (!copy) {
		close(fd);
		return ENOMEM;
	}
	if (q->logfd >= 0)
		close(q->logfd);
	free(q->logpath);
	q->logfd = fd;
	q->logpath = copy;
	q->logstart = loop_now();
	return 0;
}

/* One line of the transcript: "<wall clock> +<seconds> <direction>
 * <message>": the wall clock (UTC, ISO 8601, milliseconds) to line the
 * transcript up with other logs, the monotonic seconds since the log began
 * for durations a clock step cannot bend. */
static void note(struct qmp *q, const char *dir, const char *text, size_t n)
{
	if (q->logfd < 0)
		return;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char head[96];
	int k = (int)strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
	k += snprintf(head + k, sizeof head - k, ".%03ldZ +%.3f %s ", ts.tv_nsec / 1000000,
	              loop_now() - q->logstart, dir);
	log_append(&q->logfd, q->logpath, "the QMP transcript", head, (size_t)k);
	log_append(&q->logfd, q->logpath, "the QMP transcript", text, n);
	log_append(&q->logfd, q->logpath, "the QMP transcript", "\n", 1);
}

/* ---- sending ---------------------------------------------------------------- */

void qmp_forget(struct qmp *q, uint64_t id)
{
	json_t *late = qmp_take_reply(q, id);  /* it may have come in the meantime */
	if (late) {
		json_decref(late);
		return;
	}
	if (ids_take(q->sent, q->nsent, id))
		ids_add(&q->abandoned, &q->nabandoned, id);
}

static uint64_t send_json(struct qmp *q, const char *cmd, json_t *args)
{
	if (q->fd < 0) {
		json_decref(args);
		return 0;
	}
	uint64_t id = q->next_id++;
	if (ids_add(&q->sent, &q->nsent, id) < 0) {
		json_decref(args);
		return 0;
	}
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (args)
		json_object_set_new(msg, "arguments", args);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return 0;
	note(q, ">", text, strlen(text));
	int r = outq_put(&q->out, text, strlen(text));
	free(text);
	if (r < 0 || outq_put(&q->out, "\n", 1) < 0)
		return 0;
	/* Sent at once if the socket takes it (it nearly always does); the
	 * loop finishes the rest when it becomes writable. */
	if (!q->want_out)
		flush(q);
	return id;
}

int qmp_fd_pending(const struct qmp *q)
{
	return q->out.has_fd;
}

uint64_t qmp_send_fd(struct qmp *q, const char *cmd, json_t *args, int fd)
{
	if (!qmp_alive(q) || q->out.has_fd) {
		json_decref(args);
		return 0;
	}
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0) {
		json_decref(args);
		return 0;
	}
	outq_pass_fd(&q->out, copy);
	return send_json(q, cmd, args);
}

struct qmp *qmp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct qmp *q = qmp_open(fd);
	if (!q)
		close(fd);
	return q;
}

uint64_t qmp_send(struct qmp *q, const char *cmd, json_t *args)
{
	if (!qmp_alive(q)) {
		json_decref(args);
		return 0;
	}
	return send_json(q, cmd, args);
}

/* Watches for "writable" only while there is something left to send. */
static void want_out(struct qmp *q, int on)
{
	if (q->want_out != on && q->fd >= 0) {
		q->want_out = on;
		loop_mod(q->fd, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
	}
}

static void flush(struct qmp *q)
{
	int r = outq_send(&q->out, q->fd);
	if (r < 0)
		fail(q, QMP_CLOSED, "QMP connection lost while sending (%s)", strerror(errno));
	else
		want_out(q, r == 1);
}

/* ---- receiving -------------------------------------------------------------- */

static void push(struct qmp_msg **head, json_t *msg)
{
	struct qmp_msg *m = malloc(sizeof *m);
	if (!m) {
		json_decref(msg);
		return;
	}
	*m = (struct qmp_msg){ .msg = msg };
	while (*head)
		head = &(*head)->next;
	*head = m;
}

/* A copy of the len bytes at s, or NULL when memory ran out. */
static char *copy(const char *s, size_t len)
{
	char *t = malloc(len ? len : 1);
	if (t)
		memcpy(t, s, len);
	return t;
}

/* msg is the parsed line (len bytes at line). */
static void handle(struct qmp *q, json_t *msg, const char *line, size_t len)
{
	json_t *id = json_object_get(msg, "id");
	if (json_object_get(msg, "QMP")) {
		if (q->state != QMP_GREETING) {
			json_decref(msg);
			fail(q, QMP_BROKEN, "QEMU sent a second QMP greeting");
			return;
		}
		json_decref(msg);
		if (!(q->greeting = copy(line, len))) {
			fail(q, QMP_BROKEN, "out of memory reading QMP");
			return;
		}
		q->greeting_len = len;
		q->state = QMP_NEGOTIATING;
		q->caps_id = send_json(q, "qmp_capabilities", NULL);
		return;
	}
	if (q->state == QMP_GREETING) {
		json_decref(msg);
		fail(q, QMP_BROKEN, "QEMU sent a QMP message before its greeting");
		return;
	}
	if (json_object_get(msg, "event")) {
		json_decref(msg);
		struct qmp_msg *m = malloc(sizeof *m);
		char *text = copy(line, len);
		if (!m || !text) {
			free(m);
			free(text);
			return;
		}
		*m = (struct qmp_msg){ .text = text, .len = len };
		*q->events_tail = m;
		q->events_tail = &m->next;
		q->nevents++;
		return;
	}
	if (!json_is_integer(id) || (!json_object_get(msg, "return") && !json_object_get(msg, "error"))) {
		json_decref(msg);
		fail(q, QMP_BROKEN, "QEMU sent a QMP message that is neither a reply nor an event");
		return;
	}
	uint64_t n = (uint64_t)json_integer_value(id);
	if (!ids_take(q->sent, q->nsent, n)) {
		json_decref(msg);
		if (ids_take(q->abandoned, q->nabandoned, n))
			return;  /* its caller gave up waiting: nobody wants it */
		fail(q, QMP_BROKEN, "QEMU sent a reply to a command it was never sent (id %llu)",
		     (unsigned long long)n);
		return;
	}
	if (n == q->caps_id && q->state == QMP_NEGOTIATING) {
		json_t *err = json_object_get(msg, "error");
		if (err) {
			fail(q, QMP_BROKEN, "qmp_capabilities failed: %s",
			     json_string_value(json_object_get(err, "desc")) ?: "(no description)");
		} else {
			q->state = QMP_READY;
		}
		json_decref(msg);
		return;
	}
	push(&q->replies, msg);
}

/* A message longer than QMP_MAX_MESSAGE (its bytes before the '\n'), or the
 * start of one, breaks the connection (lines.h). */
static void too_big(struct qmp *q)
{
	fail(q, QMP_BROKEN, "a QMP message from QEMU is larger than %u MiB", QMP_MAX_MESSAGE >> 20);
}

/* Takes every whole line received (lines.c frames them). */
static void parse(struct qmp *q)
{
	const char *line;
	size_t len;
	int r;
	while ((r = lines_next(&q->in, &line, &len)) > 0) {
		if (!len)
			continue;
		json_error_t jerr;
		note(q, "<", line, len);
		json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!msg || !json_is_object(msg)) {
			json_decref(msg);
			fail(q, QMP_BROKEN, "malformed JSON from QEMU: %s", msg ? "not an object" : jerr.text);
			return;
		}
		q->nreceived++;
		handle(q, msg, line, len);
		if (!qmp_alive(q))
			return;
	}
	if (r < 0 || lines_compact(&q->in) < 0)
		too_big(q);
}

/* Room for the next bytes (lines_room); 0, or -1 when memory ran out
 * (the connection is then BROKEN). */
static int make_room(struct qmp *q)
{
	if (lines_room(&q->in) == 0)
		return 0;
	fail(q, QMP_BROKEN, "out of memory reading QMP");
	return -1;
}

static void receive(struct qmp *q)
{
	for (;;) {
		int more;
		long n = lines_recv(&q->in, q->fd, &more);
		if (n < 0) {
			if (errno == ENOMEM)
				fail(q, QMP_BROKEN, "out of memory reading QMP");
			else if (errno != EAGAIN)
				fail(q, QMP_CLOSED, "QMP connection lost (%s)", strerror(errno));
			return;
		}
		if (n <= 0) {
			fail(q, QMP_CLOSED, q->in.len ? "QMP connection closed by QEMU in the middle of a message"
			                             : "QMP connection closed by QEMU");
			return;
		}
		parse(q);
		if (q->fd < 0 || !more)
			return;  /* a short read: the socket is empty, no need to ask again */
	}
}

void qmp_feed(struct qmp *q, const void *buf, size_t n)
{
	const char *p = buf;
	while (n && qmp_alive(q) && make_room(q) == 0) {
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
	struct qmp *q = ctx;
	if (events & EPOLLOUT)
		flush(q);
	if (q->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		receive(q);
}

/* ---- taking ------------------------------------------------------------------ */

json_t *qmp_take_reply(struct qmp *q, uint64_t id)
{
	for (struct qmp_msg **p = &q->replies; *p; p = &(*p)->next) {
		json_t *mid = json_object_get((*p)->msg, "id");
		if ((uint64_t)json_integer_value(mid) == id) {
			struct qmp_msg *m = *p;
			json_t *msg = m->msg;
			*p = m->next;
			free(m);
			return msg;
		}
	}
	return NULL;
}

/* Text that parsed once parses again: NULL only when memory ran out. */
static json_t *parse_text(const char *s, size_t len)
{
	json_error_t jerr;
	return s ? json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
}

json_t *qmp_greeting(const struct qmp *q)
{
	return parse_text(q->greeting, q->greeting_len);
}

int qmp_has_event(const struct qmp *q, const char *name, double since)
{
	/* Asked at every step of some waits, over events nobody may take for a
	 * VM's whole life: only a text that has the name in quotes is parsed. */
	char quoted[64];
	int qn = snprintf(quoted, sizeof quoted, "\"%s\"", name);
	int found = 0;
	for (const struct qmp_msg *m = q->events; m && !found; m = m->next) {
		if (qn <= 0 || (size_t)qn >= sizeof quoted || !memmem(m->text, m->len, quoted, (size_t)qn))
			continue;
		json_t *ev = parse_text(m->text, m->len);
		const char *e = json_string_value(json_object_get(ev, "event"));
		json_t *ts = json_object_get(ev, "timestamp");
		double t = (double)json_integer_value(json_object_get(ts, "seconds")) +
		           (double)json_integer_value(json_object_get(ts, "microseconds")) / 1e6;
		found = e && !strcmp(e, name) && t >= since;
		json_decref(ev);
	}
	return found;
}

json_t *qmp_take_event_if(struct qmp *q, int (*match)(json_t *ev, void *ctx), void *ctx)
{
	for (struct qmp_msg **p = &q->events; *p; p = &(*p)->next) {
		json_t *msg = parse_text((*p)->text, (*p)->len);
		if (!msg)
			return NULL;
		if (match && !match(msg, ctx)) {
			json_decref(msg);
			continue;
		}
		struct qmp_msg *m = *p;
		*p = m->next;
		if (!*p)
			q->events_tail = p;
		q->nevents--;
		free(m->text);
		free(m);
		return msg;
	}
	return NULL;
}

json_t *qmp_take_event(struct qmp *q)
{
	return qmp_take_event_if(q, NULL, NULL);
}
