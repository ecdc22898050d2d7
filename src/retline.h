/* retline.h - which line a script's `return` statement starts on.  Lua
 * reports the line where a statement ends (the closing brace of a long
 * `return { ... }`); errors in a returned description should point at the
 * `return` itself.  Plain C. */
#ifndef QLUA_RETLINE_H
#define QLUA_RETLINE_H

#include <stddef.h>

/* The line of the last `return` of the main chunk (outside any function)
 * that starts at or before `line`; `line` itself when there is none. */
int retline_find(const char *src, size_t n, int line);
/* How many `return` statements the main chunk has (outside any function). */
int retline_count(const char *src, size_t n);

#endif
