/* lsys.c - see lsys.h.  The library used to ask a shell (`pwd`, `readlink
 * /proc/$PPID/exe`, `mkdir -p`): a program started for a fact, even in a
 * dry run, which starts none. */
#include "lsys.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

/* nil, "<what>: <strerror>" */
static int fail(lua_State *L, const char *what)
{
	int e = errno;
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", what, strerror(e));
	return 2;
}

/* qemu._random_hex(n) -> 2n hex digits from the kernel's random source, for
 * the Lua library's unpredictable names (run directories, instance ids,
 * temporary files).  Not math.random: busted seeds it with the time, so
 * two processes started in the same second would draw the same names. */
static int l_random_hex(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_argcheck(L, n >= 1 && n <= 32, 1, "expected 1 to 32 bytes");
	unsigned char b[32];
	char hex[64];
	for (size_t got = 0; got < (size_t)n;) {
		ssize_t r = getrandom(b + got, (size_t)n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return luaL_error(L, "getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	for (lua_Integer i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[b[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	lua_pushlstring(L, hex, (size_t)(2 * n));
	return 1;
}

/* qemu._cwd() -> the working directory, or nil, why */
static int l_cwd(lua_State *L)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf))
		return fail(L, "getcwd");
	lua_pushstring(L, buf);
	return 1;
}

/* qemu._exe() -> the program this process runs (qlua, or the lua5.4 that
 * loaded qemu.so), or nil, why */
static int l_exe(lua_State *L)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
	if (n < 0 || (size_t)n >= sizeof buf)
		return fail(L, "/proc/self/exe");
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

/* qemu._mkdir_p(dir) -> true, or nil, why: dir and its missing parents,
 * as mkdir -p makes them (mode 0777 less the umask). */
static int l_mkdir_p(lua_State *L)
{
	size_t n;
	const char *dir = luaL_checklstring(L, 1, &n);
	char path[PATH_MAX];
	if (n == 0 || n >= sizeof path) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return fail(L, dir);
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		struct stat st;
		if (mkdir(path, 0777) != 0 && (errno != EEXIST || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			return fail(L, path);
		}
		*p = c;
		if (!c)
			break;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void lsys_register(lua_State *L)
{
	static const luaL_Reg funcs[] = { { "_random_hex", l_random_hex }, { "_cwd", l_cwd }, { "_exe", l_exe },
	                                  { "_mkdir_p", l_mkdir_p }, { NULL, NULL } };
	luaL_setfuncs(L, funcs, 0);
}
