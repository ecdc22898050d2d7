/* qmp.h - one QMP connection: framing, greeting, capabilities negotiation,
 * commands with ids, replies and events.  Plain C; JSON through jansson,
 * never by hand.  Driven by the event loop (loop.h). */
#ifndef QLUA_QMP_H
#define QLUA_QMP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lines.h"

enum qmp_state {
	QMP_GREETING,      /* waiting for {"QMP": ...} */
	QMP_NEGOTIATING,   /* qmp_capabilities sent */
	QMP_READY,
	QMP_CLOSED,        /* end of file, or closed by us */
	QMP_BROKEN,        /* QEMU sent something that is not QMP */
};

/* A message may be this big (256 MiB): its bytes before the '\n'.  The
 * fuzzer (fuzz/qmp.c) builds with a small one its inputs can reach. */
#ifndef QMP_MAX_MESSAGE
#define QMP_MAX_MESSAGE (256u << 20)
#endif

/* A reply is kept as parsed JSON (its caller takes it soon); an event and
 * the greeting as their text (len bytes, not terminated), parsed when
 * taken: they may wait for the whole life of a VM that nobody asks, and a
 * jansson tree costs several times its text (~1 KiB for a SHUTDOWN event,
 * of a supervisor's ~8 KiB per VM). */
struct qmp_msg {
	json_t *msg;
	char *text;
	size_t len;
	struct qmp_msg *next;
};

struct qmp {
	int fd;
	enum qmp_state state;
	char error[512];          /* why it is CLOSED or BROKEN */
	char *greeting;           /* its text (see qmp_msg), or NULL */
	size_t greeting_len;
	struct lines in;          /* bytes received, not yet a whole message */
	struct outq out;          /* bytes to send, and a descriptor to pass with them */
	int want_out;             /* the loop watches for "writable" */
	uint64_t next_id, caps_id;
	uint64_t *sent;           /* ids sent and not answered (0: a free slot) */
	int nsent;
	uint64_t *abandoned;      /* ids whose caller stopped waiting: their replies are dropped */
	int nabandoned;
	struct qmp_msg *replies;  /* replies not yet taken, by "id" */
	struct qmp_msg *events, **events_tail;
	int nevents;
	uint64_t nreceived;       /* messages received: waits watch this change */
	int logfd;                /* every message in and out goes here (qmp:log), or -1 */
	char *logpath;            /* its path, for the warning when it fails */
	double logstart;          /* loop_now() when the log began: the offsets' origin */
};

/* Takes over fd (a connected stream socket) and watches it in the loop. */
struct qmp *qmp_open(int fd);
/* Stops watching, closes the socket, frees everything. */
void qmp_free(struct qmp *q);
/* Queues {"execute": cmd, "arguments": args, "id": N} (args may be NULL;
 * it is consumed).  Returns N, or 0 when the connection is not usable. */
uint64_t qmp_send(struct qmp *q, const char *cmd, json_t *args);
/* The same, passing fd (a copy is made) with the command over SCM_RIGHTS,
 * as getfd and add-fd want.  Returns 0 too while another descriptor is
 * still waiting to be sent (qmp_fd_pending). */
uint64_t qmp_send_fd(struct qmp *q, const char *cmd, json_t *args, int fd);
int qmp_fd_pending(const struct qmp *q);
/* Connects to a QMP unix socket; NULL with errno set. */
struct qmp *qmp_connect(const char *path);
/* The reply with that id (the caller owns it), or NULL if not here yet. */
json_t *qmp_take_reply(struct qmp *q, uint64_t id);
/* The caller stopped waiting for id (a timeout): its reply, when it comes,
 * is dropped instead of kept forever. */
void qmp_forget(struct qmp *q, uint64_t id);
/* The greeting, parsed anew (the caller owns it), or NULL before it came. */
json_t *qmp_greeting(const struct qmp *q);
/* Is an event of that name, stamped at `since` (wall clock) or later,
 * waiting to be taken?  1 or 0. */
int qmp_has_event(const struct qmp *q, const char *name, double since);
/* The oldest event not taken (the caller owns it), or NULL. */
json_t *qmp_take_event(struct qmp *q);
/* Removes and returns the first event for which match() is true. */
json_t *qmp_take_event_if(struct qmp *q, int (*match)(json_t *ev, void *ctx), void *ctx);
/* Takes n bytes as if they had come from the socket: what the loop does
 * with what it reads, without the loop (fuzz/qmp.c feeds it). */
void qmp_feed(struct qmp *q, const void *buf, size_t n);
/* Appends every message in and out, with a timestamp, to path (replacing
 * an earlier log): 0, or an errno value.  A log that cannot be written (a
 * full disk) is dropped with one warning (log_append, fdutil.h). */
int qmp_log(struct qmp *q, const char *path);
/* A usable state: GREETING/NEGOTIATING still may become READY. */
int qmp_alive(const struct qmp *q);

#endif
