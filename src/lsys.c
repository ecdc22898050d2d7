/* lsys.c - see lsys.h.  The library used to ask a shell (`pwd`, `readlink
 * /proc/$PPID/exe`, `mkdir -p`, `rm -rf`, `nproc`, `test -t`, `date`,
 * `ls`): a program started, and a path quoted for sh, for a fact or a
 * directory, even in a dry run, which starts none. */
#include "lsys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "ldry.h"
#include "prepare.h"

/* nil, "<what>: <strerror>" */
static int fail(lua_State *L, const char *what)
{
	int e = errno;
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", what, strerror(e));
	return 2;
}

/* 2n hex digits (n <= 32) from the kernel's random source into hex; 0, or
 * -1 with errno set. */
static int random_hex(char *hex, size_t n)
{
	unsigned char b[32];
	for (size_t got = 0; got < n;) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[b[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	return 0;
}

/* qemu._random_hex(n) -> 2n hex digits from the kernel's random source, for
 * the Lua library's unpredictable names (run directories, instance ids,
 * temporary files).  Not math.random: busted seeds it with the time, so
 * two processes started in the same second would draw the same names. */
static int l_random_hex(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_argcheck(L, n >= 1 && n <= 32, 1, "expected 1 to 32 bytes");
	char hex[64];
	if (random_hex(hex, (size_t)n) < 0)
		return luaL_error(L, "getrandom: %s", strerror(errno));
	lua_pushlstring(L, hex, (size_t)(2 * n));
	return 1;
}

/* Writes n bytes of data to fd; 0, or -1 with errno set. */
static int write_all(int fd, const char *data, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* data into what path already is, through it, as an open would: a device
 * (--junit /dev/stdout), a pipe, a link that names no file yet (create:
 * made where it points), a directory (which fails).  A named pipe nobody
 * reads is an error (ENXIO), not an open that waits for ever.  0, or -1
 * with errno set. */
static int write_through(const char *path, int create, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NONBLOCK | (create ? O_CREAT : 0), 0666);
	if (fd < 0)
		return -1;
	int r = 0, flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || write_all(fd, data, n) != 0)
		r = -1;
	int e = errno;
	if (close(fd) != 0 && r == 0)
		return -1;
	errno = e;
	return r;
}

/* data as the whole regular file at path (mode: the old file's, or -1 for
 * 0666 less the umask), by a new file beside it renamed over it.  0, or -1
 * with errno set and path as it was. */
static int write_aside(const char *path, int mode, const char *data, size_t n)
{
	char tmp[PATH_MAX], hex[12];
	if (random_hex(hex, 6) < 0)
		return -1;
	int len = snprintf(tmp, sizeof tmp, "%s.%.12s.tmp", path, hex);
	if (len < 0 || (size_t)len >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	int r = 0;
	if ((mode >= 0 && fchmod(fd, (mode_t)mode) != 0) || write_all(fd, data, n) != 0)
		r = -1;
	int e = errno;
	if (close(fd) != 0 && r == 0)
		r = -1, e = errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -1, e = errno;
	if (r != 0) {
		unlink(tmp);
		errno = e;
	}
	return r;
}

/* The descriptor a path names by number (/dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N), or -1. */
static int named_fd(const char *path)
{
	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	const char *n = !strncmp(path, "/dev/fd/", 8) ? path + 8 : !strncmp(path, "/proc/self/fd/", 14) ? path + 14 : NULL;
	if (!n || *n < '0' || *n > '9' || strlen(n) > 6 || strspn(n, "0123456789") != strlen(n))
		return -1;
	return atoi(n);
}

/* qemu._write_file(path, data) -> true, or nil, why: data as the whole of
 * path, or path as it was.  For a regular file (or none yet) the bytes go
 * to a new file beside it, which is then renamed over it, so a reader (a
 * CI job parsing junit.xml, qlua --merge reading results.json, a browser
 * on the HTML report) finds the old file or the new one, never part of
 * one: not when qlua is killed mid-way, nor when the disk fills up, which
 * is an error here where a plain f:write's short file went unnoticed.  The
 * file keeps its mode; a symbolic link stays one (the file it names is
 * replaced).  What is no regular file (a device, a pipe), and whatever is
 * under /dev or /proc, is written through, as an open would; a descriptor
 * named by number (--junit /dev/stdout) gets the bytes where it stands,
 * after what stdio holds for it, with nothing truncated: stdout redirected
 * to a file keeps what came before.  A dry run writes nothing: it raises,
 * as io.open for writing does. */
static int l_write_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t n;
	const char *data = luaL_checklstring(L, 2, &n);
	ldry_refuse_change(L, "qemu._write_file", "write", path);
	struct stat st, lst;
	int link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode), r, fd = named_fd(path);
	if (fd >= 0) {
		fflush(fd == 1 ? stdout : fd == 2 ? stderr : NULL);
		r = fcntl(fd, F_GETFD) < 0 ? -1 : write_all(fd, data, n);
	} else if (!strncmp(path, "/dev/", 5) || !strncmp(path, "/proc/", 6)) {
		r = write_through(path, 0, data, n);
	} else if (stat(path, &st) != 0) {
		r = link ? write_through(path, 1, data, n) : write_aside(path, -1, data, n);
	} else if (!S_ISREG(st.st_mode)) {
		r = write_through(path, 0, data, n);
	} else if (link) {
		char real[PATH_MAX];  /* the file the link names is the one replaced */
		r = realpath(path, real) ? write_aside(real, (int)(st.st_mode & 07777), data, n) : -1;
	} else {
		r = write_aside(path, (int)(st.st_mode & 07777), data, n);
	}
	if (r != 0)
		return fail(L, path);
	lua_pushboolean(L, 1);
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
 * as mkdir -p makes them (mode 0777 less the umask).  A dry run makes
 * none: it raises when dir is not there yet. */
static int l_mkdir_p(lua_State *L)
{
	size_t n;
	const char *dir = luaL_checklstring(L, 1, &n);
	struct stat there;
	if (stat(dir, &there) != 0 || !S_ISDIR(there.st_mode))
		ldry_refuse_change(L, "qemu._mkdir_p", "make", dir);
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

/* qemu._rm_rf(path) -> true, or nil, why: path and all under it, as rm -rf
 * removes them (prepare_remove_tree); nothing there is no error.  A dry
 * run removes nothing: it raises when something is there. */
static int l_rm_rf(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat there;
	if (lstat(path, &there) == 0)
		ldry_refuse_change(L, "qemu._rm_rf", "remove", path);
	if (prepare_remove_tree(path) != 0)
		return fail(L, path);
	lua_pushboolean(L, 1);
	return 1;
}

/* qemu._nproc() -> the processors this process may run on, as nproc(1)
 * counts them (its affinity mask) */
static int l_nproc(lua_State *L)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	lua_pushinteger(L, n > 0 ? n : 1);
	return 1;
}

/* qemu._isatty(fd) -> is descriptor fd a terminal? */
static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

/* qemu._wall_time() -> the wall clock, Unix seconds with fractions
 * (os.time has whole seconds only) */
static int l_wall_time(lua_State *L)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	lua_pushnumber(L, (lua_Number)t.tv_sec + (lua_Number)t.tv_nsec / 1e9);
	return 1;
}

/* qemu._dir(path) -> the names in directory path (not . and ..), in no
 * order, or nil, why */
static int l_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	DIR *d = opendir(path);
	if (!d)
		return fail(L, path);
	lua_newtable(L);
	int n = 0;
	for (struct dirent *e; (errno = 0, e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++n);
	}
	int e = errno;
	closedir(d);
	if (e) {
		errno = e;
		return fail(L, path);
	}
	return 1;
}

/* ---- a directory's lock ------------------------------------------------------ */

#define LOCK_MT "qemu.lock"

static int *lock_fd(lua_State *L)
{
	return luaL_checkudata(L, 1, LOCK_MT);
}

/* lock:unlock(), also its __close and __gc: the lock goes with the
 * descriptor; a second call does nothing. */
static int l_unlock(lua_State *L)
{
	int *fd = lock_fd(L);
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return 0;
}

/* qemu._lock_dir(dir) -> lock, or nil, why, busy: an exclusive flock(2) on
 * the directory itself (no file of its own in it), held until lock:unlock()
 * (or its <close>, or its collection, or the process's end).  busy: true
 * when another process holds it, the one refusal: a file system without
 * such locks (an NFS mount) says why but is no error to the caller, which
 * goes on unguarded rather than not at all.  The descriptor is
 * close-on-exec: QEMU never holds a run directory's lock. */
static int l_lock_dir(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return fail(L, dir);
	luaL_setmetatable(L, LOCK_MT);
	int r;
	do
		r = flock(*fd, LOCK_EX | LOCK_NB);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		errno = e;
		fail(L, dir);
		lua_pushboolean(L, e == EWOULDBLOCK);
		return 3;
	}
	return 1;
}

void lsys_register(lua_State *L)
{
	if (luaL_newmetatable(L, LOCK_MT)) {
		static const luaL_Reg mt[] = { { "__gc", l_unlock }, { "__close", l_unlock }, { NULL, NULL } };
		luaL_setfuncs(L, mt, 0);
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, l_unlock);
		lua_setfield(L, -2, "unlock");
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	static const luaL_Reg funcs[] = { { "_random_hex", l_random_hex }, { "_cwd", l_cwd }, { "_exe", l_exe },
	                                  { "_mkdir_p", l_mkdir_p }, { "_rm_rf", l_rm_rf }, { "_nproc", l_nproc },
	                                  { "_isatty", l_isatty }, { "_wall_time", l_wall_time }, { "_dir", l_dir },
	                                  { "_write_file", l_write_file }, { "_lock_dir", l_lock_dir },
	                                  { NULL, NULL } };
	luaL_setfuncs(L, funcs, 0);
}
