/* console.h - a captured serial console: what the guest prints kept in a
 * ring buffer (with absolute positions, so readers keep their place), an
 * optional log file, and a queue of text to send.  Plain C; the Lua side
 * (lvm.c) does pattern matching on what text() returns. */
#ifndef QLUA_CONSOLE_H
#define QLUA_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RING (1u << 20)   /* the last 1 MiB of output is kept */

struct console {
	int fd;
	char *ring;
	uint64_t total;          /* bytes received since the start */
	uint64_t read_mark;      /* :read() returns from here */
	uint64_t expect_mark;    /* :expect() searches from here */
	double matched_at;       /* loop_now() of the first :expect match (0: none yet) */
	int eof;
	int logfd;               /* -1: no log */
	char *logpath;           /* its path, for the warning when it fails */
	char *out;
	size_t outlen, outcap, outoff;
};

struct console *console_open(int fd);
void console_free(struct console *c);
/* Copies the text from position `from` (clipped to what the ring still
 * holds) to the end into buf (malloc'ed, caller frees); sets *start to the
 * position of its first byte. */
char *console_text(struct console *c, uint64_t from, size_t *len, uint64_t *start);
int console_send(struct console *c, const char *s, size_t n);  /* 0 or -1 */
/* Logs everything kept so far and everything that comes later to path
 * (appending).  Returns 0 or an errno value. */
int console_log(struct console *c, const char *path);

#endif
