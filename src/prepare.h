/* prepare.h - the commands a description runs before QEMU (its `prepare`:
 * a disk overlay's qemu-img, ...), and removing what they made when qlua
 * exits.  Plain C. */
#ifndef QLUA_PREPARE_H
#define QLUA_PREPARE_H

#include <stddef.h>

#include "emit.h"

#define PREPARE_TIMEOUT 120  /* seconds one command may take */

/* Runs e's steps in order, each to its end (stdin /dev/null, its output
 * kept for the message).  Returns 0, or -1 with a message in err naming
 * the step that failed ("prepare[2]: 'qemu-img' exited with code 1:
 * <its output>"); the steps after it do not run.  A step's `remove` is
 * remembered once the step succeeded. */
int prepare_run(const struct emit *e, char *err, size_t errlen);

/* Removes (recursively, never following symbolic links) what the steps
 * that ran asked to remove, newest first, and forgets it.  qlua calls it
 * at exit, once QEMU is gone; so does the qemu module when its Lua state
 * closes. */
void prepare_cleanup(void);

/* Removes path and everything under it, as rm -rf does: depth first,
 * symbolic links themselves and never what they point to, not across
 * mounts, going on past what cannot be removed.  Nothing there is no
 * error.  Returns 0, or -1 with errno of the first removal that failed.
 * (prepare_cleanup, and qemu._rm_rf for the matrix's cell directories.) */
int prepare_remove_tree(const char *path);

#endif
