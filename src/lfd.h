/* lfd.h - the qemu.fd userdata: a descriptor handed to QEMU at launch. */
#ifndef QLUA_LFD_H
#define QLUA_LFD_H

#include <lua.h>

#define QLUA_FD_MT "qemu.fd"

struct qfd {
	int fd;            /* -1 once closed */
	char what[96];     /* what it is, for --json and messages: "tap tap0 queue 1" */
};

/* The object at idx, or NULL when it is not a qemu.fd. */
struct qfd *qfd_test(lua_State *L, int idx);
/* Pushes a new, still empty (fd = -1) qemu.fd: wrap first, then acquire. */
struct qfd *qfd_push(lua_State *L);
/* Pushes the Lua object whose struct is q (found among the live qemu.fd
 * objects; a linear walk, there are few), or nil if there is none. */
void qfd_pushobj(lua_State *L, struct qfd *q);
/* Adds fd, open, tap, socketpair to the table at the top of the stack and
 * registers the metatable. */
void lfd_register(lua_State *L);

#endif
