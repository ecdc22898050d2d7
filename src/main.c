/* main.c - the qlua command: options, the script in protected mode, what
 * its return value means, and the exit status.  Like lua.c, all work runs
 * inside one protected call and errors are printed once, as "qlua: msg". */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lualib.h>

#include "check.h"
#include "foreground.h"
#include "kvm.h"
#include "lalloc.h"
#include "lfd.h"
#include "lbuild.h"
#include "ldev.h"
#include "ldry.h"
#include "lib.h"
#include "loop.h"
#include "lvm.h"
#include "lwait.h"
#include "options.h"
#include "prepare.h"
#include "render.h"
#include "retline.h"
#include "schema.h"
#include "spawn.h"

#define EXIT_USAGE 2   /* usage, script and validation errors */

/* The option table: the parser and --help both read it. */
enum { O_DRY, O_JSON, O_CHECK, O_PROBE, O_EXEC, O_LIB, O_DESCRIBE, O_MERGE, O_VERSION, O_HELP };
static const struct opt {
	char shortname;
	const char *longname;
	const char *arg;
	const char *help;
} options[] = {
	[O_DRY] = { 'n', "dry-run", NULL, "print the commands the script's VM would run, shell-quoted "
	                                  "(prepare steps, then QEMU); starts nothing" },
	[O_JSON] = { 0, "json", NULL, "print them and QEMU's descriptor map as JSON" },
	[O_CHECK] = { 0, "check", NULL, "check that the VM's QEMU has every machine type, device, property and "
	                                "object type the VM uses (exit 2 if not), from the answers --probe cached; "
	                                "starts nothing, writes no file" },
	[O_PROBE] = { 0, "probe", NULL, "--check, asking the VM's QEMU (started as -machine none) what the cache "
	                                "lacks, and caching its answers" },
	[O_EXEC] = { 'e', NULL, "CHUNK", "run the Lua chunk CHUNK before the script (each -e, in order)" },
	[O_LIB] = { 'L', NULL, "DIR", "look for Lua modules in DIR first (qemu.NAME in DIR/qemu/NAME.lua; as QLUA_PATH=DIR)" },
	[O_DESCRIBE] = { 0, "describe", "KIND", "print the fields of a device kind, a section or a table of named options "
	                                  "(launch, tap, recipes.disk, matrix, ...); runs no script, so it takes none, "
	                                  "nor -e, -n, --json, --check or --probe" },
	[O_MERGE] = { 0, "merge", "DIR...", "report a matrix's shards as one (each DIR a run directory or its "
	                                   "shard-I-of-N): --junit FILE, --tap, --html FILE after the DIRs; exit 0 only when "
	                                   "every cell of the whole matrix passed; runs no script, as --describe" },
	[O_VERSION] = { 0, "version", NULL, "print the version and exit" },
	[O_HELP] = { 'h', "help", NULL, "print this help and exit" },
};
#define NOPTS (int)(sizeof options / sizeof options[0])

/* The matrix options: lua/qemu/matrix.lua's M.OPTIONS parses them, after
 * the script (they are its arguments).  Listed here for --help and to say
 * where one goes when it comes before the script; spec/cli_spec.lua checks
 * that this list is M.OPTIONS'. */
static const struct { const char *name, *arg; } matrix_options[] = {
	{ "-j", "N" }, { "--fail-fast", NULL }, { "--only", "TEXT" }, { "--timeout", "S" },
	{ "--tap", NULL }, { "--junit", "FILE" }, { "--html", "FILE" }, { "--list", NULL },
	{ "--shard", "I/N" }, { "--out", "DIR" },
};
#define NMATRIX (int)(sizeof matrix_options / sizeof matrix_options[0])

static void usage(FILE *f)
{
	fputs("usage: qlua [options] script.lua [args...]\n"
	      "       qlua --merge DIR... [--junit FILE] [--tap] [--html FILE]\n\n"
	      "Runs a Lua script that describes QEMU virtual machines.  A script that returns\n"
	      "a VM description runs it in the foreground (its console on this terminal) and\n"
	      "exits with QEMU's status; a script that returns nothing did its own work.\n"
	      "Under -n, --json, --check and --probe, the script's own qemu.launch (qemu.run,\n"
	      "qemu.launch_custom) prints or checks what it would run and stops the script.\n\n"
	      "options:\n", f);
	for (int i = 0; i < NOPTS; i++) {
		char left[40];
		const struct opt *o = &options[i];
		if (o->shortname && o->longname)
			snprintf(left, sizeof left, "-%c, --%s", o->shortname, o->longname);
		else if (o->shortname)
			snprintf(left, sizeof left, "-%c %s", o->shortname, o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->longname, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-22s %s\n", left, o->help);
	}
	fputs("\nA script that returns a matrix (require \"qemu.matrix\") runs it; its options\n"
	      "come after the script:", f);
	for (int i = 0, col = 22; i < NMATRIX; i++) {  /* 22: the width of "come after the script:" */
		char item[40];
		snprintf(item, sizeof item, "%s%s%s%s", matrix_options[i].name, matrix_options[i].arg ? " " : "",
		         matrix_options[i].arg ? matrix_options[i].arg : "", i + 1 < NMATRIX ? "," : ".");
		int len = (int)strlen(item);
		if (col + 1 + len > 78) {
			fputc('\n', f);
			col = 0;
		} else {
			fputc(' ', f);
			col++;
		}
		fputs(item, f);
		col += len;
	}
	fputs("\n\nexit status: QEMU's own (128 + signal when it was killed) for a foreground VM;\n"
	      "0 when every cell of a matrix passed, 1 when not; 2 for usage, script and\n"
	      "validation errors (and for what --check and --probe find); 126/127 when QEMU\n"
	      "cannot be executed.\n"
	      "environment: QLUA_QEMU names the QEMU binary used when a description has no 'path';\n"
	      "QLUA_PATH=DIR: require looks in DIR first (then beside the script), the built-in\n"
	      "qemu.* modules serving those DIR lacks;\n"
	      "--probe keeps QEMU's answers in $XDG_CACHE_HOME/qlua (default ~/.cache/qlua),\n"
	      "where --check reads them.\n", f);
}

struct args {
	int flags[NOPTS];
	const char **exec;       /* each -e, in order (lua.c runs them all) */
	int nexec;
	const char *describe;    /* --describe */
	const char *lib;         /* -L */
	int script;              /* index of the script in argv, 0 if none */
	int merge;               /* --merge: index of its first argument, 0 if none */
};

/* Writes s as one shell word. */
static void put_word(FILE *f, const char *s)
{
	const char *safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,@%+-";
	if (*s && strspn(s, safe) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static int matrix_option(const char *s)
{
	for (int m = 0; m < NMATRIX; m++)
		if (!strcmp(s, matrix_options[m].name))
			return m;
	return -1;
}

/* argv[i] is matrix option m, written before the script: says where it
 * goes, with its value and the script the rest of the line names. */
static void misplaced_matrix_option(int argc, char **argv, int i, int m)
{
	const char *value = matrix_options[m].arg, *script = "script.lua";
	int k = i + 1;
	if (value && k < argc)
		value = argv[k++];
	for (; k < argc; k++) {
		const char *s = argv[k];
		if (s[0] != '-' || !s[1] || !strcmp(s, "--")) {
			if (strcmp(s, "--"))
				script = s;
			else if (k + 1 < argc)
				script = argv[k + 1];
			break;
		}
		int mo = matrix_option(s);
		for (int j = 0; mo < 0 && j < NOPTS; j++)
			if (options[j].arg && ((s[1] != '-' && s[2] == '\0' && s[1] == options[j].shortname) ||
			                       (s[1] == '-' && options[j].longname && !strcmp(s + 2, options[j].longname))))
				k++;  /* skip its argument */
		if (mo >= 0 && matrix_options[mo].arg)
			k++;
	}
	fprintf(stderr, "qlua: option '%s' is a matrix option: write it after the script (qlua ", argv[i]);
	put_word(stderr, script);
	fprintf(stderr, " %s", argv[i]);
	if (value) {
		fputc(' ', stderr);
		put_word(stderr, value);
	}
	fputs(")\n", stderr);
}

/* The options up to the script (or --merge's arguments). */
static int parse_options(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || !s[1]) {
			a->script = i;
			return 0;
		}
		if (!strcmp(s, "--")) {
			a->script = i + 1 < argc ? i + 1 : 0;
			return 0;
		}
		int o = -1;
		for (int j = 0; j < NOPTS; j++)
			if ((s[1] != '-' && s[2] == '\0' && s[1] == options[j].shortname) ||
			    (s[1] == '-' && options[j].longname && !strcmp(s + 2, options[j].longname)))
				o = j;
		if (o < 0 && matrix_option(s) >= 0) {
			misplaced_matrix_option(argc, argv, i, matrix_option(s));
			return -1;
		}
		if (o < 0) {
			fprintf(stderr, "qlua: unknown option '%s' (see qlua --help)\n", s);
			return -1;
		}
		a->flags[o] = 1;
		if (o == O_MERGE) {  /* the rest are its directories and options */
			a->merge = i + 1;
			return 0;
		}
		if (options[o].arg) {
			if (i + 1 >= argc) {
				fprintf(stderr, "qlua: option '%s' needs an argument (%s)\n", s, options[o].arg);
				return -1;
			}
			if (o == O_EXEC) {
				if (!a->exec && !(a->exec = calloc(argc, sizeof *a->exec))) {
					fputs("qlua: out of memory\n", stderr);
					return -1;
				}
				a->exec[a->nexec++] = argv[++i];
				continue;
			}
			const char **to = o == O_LIB ? &a->lib : &a->describe;
			if (*to) {
				/* the second would replace the first without a word */
				fprintf(stderr, "qlua: option '%s' can be given once (one %s)\n", s, options[o].arg);
				return -1;
			}
			*to = argv[++i];
		}
	}
	return 0;
}

/* --describe and --merge run no script: what only a script's run reads
 * (a dry-run flag, -e, the script itself) would be dropped without a word
 * beside them, so it is refused instead.  -L stays: both load modules. */
static int alone(const struct args *a, char **argv, int mode, const char *does)
{
	static const int others[] = { O_DRY, O_JSON, O_CHECK, O_PROBE, O_EXEC, O_DESCRIBE, O_MERGE };
	if (!a->flags[mode])
		return 0;
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		if (others[i] != mode && a->flags[others[i]]) {
			/* named by its short form where it has one (-n), else its long */
			const struct opt *o = &options[others[i]];
			char name[40];
			if (o->shortname)
				snprintf(name, sizeof name, "-%c", o->shortname);
			else
				snprintf(name, sizeof name, "--%s", o->longname);
			fprintf(stderr, "qlua: --%s %s, so it cannot go with %s\n", options[mode].longname, does, name);
			return -1;
		}
	if (a->script) {
		fprintf(stderr, "qlua: --%s %s, so it cannot go with the script %s\n", options[mode].longname, does,
		        argv[a->script]);
		return -1;
	}
	return 0;
}

/* Returns 0, or prints why the command line is wrong and returns -1. */
static int parse(int argc, char **argv, struct args *a)
{
	if (parse_options(argc, argv, a) < 0)
		return -1;
	if (alone(a, argv, O_DESCRIBE, "prints a kind's fields and runs no script") < 0 ||
	    alone(a, argv, O_MERGE, "reports a matrix's shards as one and runs no script") < 0)
		return -1;
	if (a->flags[O_DRY] && a->flags[O_JSON]) {
		/* one would be dropped: --json printed, -n did nothing */
		fputs("qlua: -n prints the command line for sh, so it cannot go with --json, which prints it as "
		      "JSON (give one)\n", stderr);
		return -1;
	}
	if (a->flags[O_PROBE] && (a->flags[O_DRY] || a->flags[O_JSON])) {
		/* -n and --json start nothing (README: dry runs): --probe first, then those */
		fprintf(stderr, "qlua: --probe starts the VM's QEMU to ask it, so it cannot go with %s, "
		        "which starts nothing (run --probe first, then %s)\n",
		        a->flags[O_DRY] ? "-n" : "--json", a->flags[O_DRY] ? "-n" : "--json");
		return -1;
	}
	if (a->flags[O_PROBE])
		a->flags[O_CHECK] = 1;  /* everything --check does, and it may ask */
	return 0;
}

/* -L's DIR, else QLUA_PATH's (empty: unset), must be a directory: a typo
 * would leave the built-in modules serving in its place, without a word.
 * 0, or prints why and returns -1. */
static int lib_dir_ok(const struct args *a)
{
	const char *dir = a->lib ? a->lib : getenv("QLUA_PATH");
	if (!dir || (!*dir && !a->lib))
		return 0;
	struct stat st;
	int r = stat(dir, &st);
	if (r == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr, "qlua: %s: cannot look in '%s' (%s)\n", a->lib ? "option '-L'" : "QLUA_PATH", dir,
	        strerror(r < 0 ? errno : ENOTDIR));
	return -1;
}

/* ---- printing a command line ---------------------------------------------------- */

/* Quotes s for sh unless it is plainly safe.  '=' is safe only after the
 * first word (sh reads "A=b cmd" as an assignment). */
static void shell_quote(luaL_Buffer *b, const char *s, int first)
{
	/* the characters sh takes as they are: a table, not strspn's set, which
	 * glibc scans for every byte of every argument (a third of print_dry) */
	static unsigned char safe[256];
	if (!safe['a']) {
		for (const char *c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:,@%+-"; *c; c++)
			safe[(unsigned char)*c] = 3;
		safe['='] = 2;  /* safe when not first */
	}
	const unsigned char *u = (const unsigned char *)s;
	while (safe[*u] & (first ? 1 : 2))
		u++;
	if (*s && !*u) {
		luaL_addlstring(b, s, (size_t)(u - (const unsigned char *)s));
		return;
	}
	luaL_addchar(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			luaL_addstring(b, "'\\''");
		else
			luaL_addchar(b, *s);
	}
	luaL_addchar(b, '\'');
}

/* The prepare steps first, one command a line, in the order they run;
 * then QEMU's, one option per line, continued with backslashes: still one
 * command. */
static void print_dry(lua_State *L, const struct emit *e)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 0; i < e->nsteps; i++) {
		for (int j = 0; j < e->steps[i].argc; j++) {
			if (j > 0)
				luaL_addchar(&b, ' ');
			shell_quote(&b, e->steps[i].argv[j], j == 0);
		}
		luaL_addchar(&b, '\n');
	}
	for (int i = 0; i < e->nfds; i++) {
		char line[32];
		snprintf(line, sizeof line, "# fd %d: ", 3 + i);
		luaL_addstring(&b, line);
		/* a comment must stay one line, whatever a file name holds */
		for (const char *w = e->fds[i]->what; *w; w++)
			luaL_addchar(&b, iscntrl((unsigned char)*w) ? '?' : *w);
		luaL_addchar(&b, '\n');
	}
	for (int i = 0; i < e->argc; i++) {
		if (i > 0)
			luaL_addstring(&b, e->argv[i][0] == '-' ? " \\\n  " : " ");
		shell_quote(&b, e->argv[i], i == 0);
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	fputs(lua_tostring(L, -1), stdout);
	lua_pop(L, 1);
}

static void print_json(const struct emit *e)
{
	json_t *argv = json_array(), *fds = json_array();
	for (int i = 0; i < e->argc; i++)
		json_array_append_new(argv, json_string(e->argv[i]));
	for (int i = 0; i < e->nfds; i++)
		json_array_append_new(fds, json_pack("{s:i, s:s}", "fd", 3 + i, "what", e->fds[i]->what));
	json_t *root = json_pack("{s:o, s:o}", "argv", argv, "fds", fds);
	if (e->nsteps) {  /* what runs before QEMU, in order */
		json_t *steps = json_array();
		for (int i = 0; i < e->nsteps; i++) {
			json_t *words = json_array();
			for (int j = 0; j < e->steps[i].argc; j++)
				json_array_append_new(words, json_string(e->steps[i].argv[j]));
			json_t *step = json_pack("{s:o}", "argv", words);
			if (e->steps[i].remove)
				json_object_set_new(step, "remove", json_string(e->steps[i].remove));
			json_array_append_new(steps, step);
		}
		json_object_set_new(root, "prepare", steps);
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

/* ---- --describe ---------------------------------------------------------------- */

/* On the transport field's line: the device names per transport, from
 * describe's `transports` (the table at idx). */
static void print_transports(lua_State *L, int idx, const char *kind)
{
	static const char *const tr[] = { "pci", "mmio", "ccw", "ap", NULL };
	const struct kind *k = schema_find(kind);
	if (lua_getfield(L, idx, "transports") != LUA_TTABLE || !k || !k->tr) {
		lua_pop(L, 1);
		return;
	}
	int t = lua_gettop(L);
	printf(" [devices:");
	for (int row = 0; row < k->ntr; row++) {
		if (k->ntr > 1) {
			const char *v = kind_fields(k)[k->tr_by].choices[row];
			printf("%s %s:", row ? ";" : "", v);
			lua_getfield(L, t, v);
		} else {
			lua_pushvalue(L, t);
		}
		int first = 1;
		for (int i = 0; tr[i]; i++) {
			if (lua_getfield(L, -1, tr[i]) == LUA_TSTRING) {
				printf("%s %s %s", first ? "" : ",", tr[i], lua_tostring(L, -1));
				first = 0;
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	printf("]");
	lua_pop(L, 1);
}

static void print_describe(lua_State *L, const char *kind)
{
	if (!schema_find(kind) && !options_find(kind)) {
		const char *s = ldev_closest_kind(kind);
		if (s)
			luaL_error(L, "unknown kind '%s' (did you mean '%s'?)", kind, s);
		luaL_Buffer b;
		luaL_buffinit(L, &b);
		for (int i = 0; schema_devices[i]; i++) {
			luaL_addstring(&b, i ? ", " : "");
			luaL_addstring(&b, schema_devices[i]->name);
		}
		luaL_addstring(&b, "; sections: vm");
		const struct field *vf = kind_fields(&schema_vm);
		for (int i = 0; i < schema_vm.nfields; i++)
			if (vf[i].sub) {
				luaL_addstring(&b, ", ");
				luaL_addstring(&b, vf[i].name);
			}
		for (int i = 0; schema_device_sections[i]; i++) {
			luaL_addstring(&b, ", ");
			luaL_addstring(&b, schema_device_sections[i]->name);
		}
		luaL_addstring(&b, "; options: ");
		for (int i = 0; options_kinds[i]; i++) {
			luaL_addstring(&b, i ? ", " : "");
			luaL_addstring(&b, options_kinds[i]->name);
		}
		luaL_pushresult(&b);
		luaL_error(L, "unknown kind '%s' (kinds: %s)", kind, lua_tostring(L, -1));
	}
	lua_getfield(L, -1, "describe");
	lua_pushstring(L, kind);
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "kind");
	lua_getfield(L, -2, "doc");
	printf("%s: %s\n", lua_tostring(L, -2), lua_tostring(L, -1));
	lua_pop(L, 2);
	lua_getfield(L, -1, "fields");
	int n = (int)lua_rawlen(L, -1);
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		int t = lua_gettop(L);
		lua_getfield(L, t, "name");
		lua_getfield(L, t, "type");
		lua_getfield(L, t, "required");
		lua_getfield(L, t, "doc");
		printf("  %-16s %-12s%s %s", lua_tostring(L, t + 1), lua_tostring(L, t + 2),
		       lua_toboolean(L, t + 3) ? " required" : "", lua_tostring(L, t + 4));
		if (lua_getfield(L, t, "choices") == LUA_TTABLE) {
			printf(" (");
			for (int c = 1; c <= (int)lua_rawlen(L, -1); c++) {
				lua_rawgeti(L, -1, c);
				printf("%s'%s'", c > 1 ? ", " : "", lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			printf(")");
		}
		if (lua_getfield(L, t, "default") != LUA_TNIL)
			printf(" [default: %s]", luaL_tolstring(L, -1, NULL));
		for (int w = 0; w < 2; w++) {
			if (lua_getfield(L, t, w ? "required_when" : "only_when") != LUA_TTABLE)
				continue;
			int wt = lua_gettop(L);
			lua_getfield(L, wt, "field");
			lua_getfield(L, wt, "values");
			printf(" [%s %s:", w ? "required with" : "only with", lua_tostring(L, -2));
			for (int c = 1; c <= (int)lua_rawlen(L, -1); c++) {
				lua_rawgeti(L, -1, c);
				printf(" %s", lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			printf("]");
		}
		if (!strcmp(lua_tostring(L, t + 1), "transport"))
			print_transports(L, t - 2, kind);
		printf("\n");
		lua_settop(L, t - 1);
	}
	lua_pop(L, 2);
}

/* ---- the protected main ---------------------------------------------------------- */

static int ret_line;             /* where the main chunk's return ended, 0 if unseen */
static const void *main_chunk;
static lua_State *main_thread;   /* the thread the main chunk runs in */

/* A return hook while the main chunk runs: when the main chunk itself
 * returns, the line its return statement ends on.  (A line hook would see
 * tail calls too, but would tax every line of every script.) */
static void on_return(lua_State *L, lua_Debug *ar)
{
	/* Every return of every function comes here: first the cheapest test,
	 * the depth (the main chunk runs right above pmain, in the main
	 * thread: a deeper frame, or a coroutine's, is not it), then the
	 * function (after `return f()`, f runs at that depth), its line only
	 * for the main chunk's own return. */
	lua_Debug below;
	if (ar->event != LUA_HOOKRET || L != main_thread || lua_getstack(L, 2, &below) ||
	    !lua_getinfo(L, "f", ar))
		return;
	if (lua_topointer(L, -1) == main_chunk && lua_getinfo(L, "l", ar))
		ret_line = ar->currentline;
	lua_pop(L, 1);
}

/* The script's text, read once (by needs_return_hook, before it runs) for
 * both functions below; script_len < 0: not read (stdin, or unreadable). */
static char script_text[1 << 20];
static long script_len = -1;

/* The line errors in a returned description blame: where the script's
 * return statement starts (retline.c).  After `return f()` (a tail call:
 * no hook sees the main chunk return) it is the last return statement of
 * the main chunk. */
static int return_line(void)
{
	if (script_len < 0)
		return ret_line;
	return retline_find(script_text, (size_t)script_len, ret_line ? ret_line : 0x7fffffff);
}

/* Does the script need the return hook: is it stdin, or does its main
 * chunk have more than one return statement?  With one, that is the
 * statement any returned description came from (return_line finds it
 * without the hook, which would tax every return of every function). */
static int needs_return_hook(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "rb") : NULL;
	if (!f)
		return 1;
	size_t n = fread(script_text, 1, sizeof script_text, f);
	fclose(f);
	script_len = (long)n;
	return n == sizeof script_text || retline_count(script_text, n) > 1;
}

/* ---- --check ------------------------------------------------------------------ */

/* qlua --check: lua/qemu/check.lua's check of the description on top of
 * the stack (left there).  Prints what it finds on stderr ("qlua: ..."),
 * or a line saying all is there on stdout; returns 1 when all is there. */
static int run_check(lua_State *L, const char *file, const char *where, const struct args *a)
{
	int desc = lua_gettop(L);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "qemu.check");
	lua_call(L, 1, 1);
	int mod = lua_gettop(L);
	lua_getfield(L, mod, "check");
	lua_pushvalue(L, desc);
	lua_pushnil(L);
	lua_pushstring(L, where);
	/* ok, errors, warnings (warnings are printed as they come) */
	if (ldry_check_pcall(L, 3, 3) != LUA_OK)
		lua_error(L);
	int ok = lua_toboolean(L, -3);
	if (!ok) {
		int n = (int)luaL_len(L, -2);
		for (int i = 1; i <= n; i++) {
			lua_rawgeti(L, -2, i);
			fprintf(stderr, "qlua: %s\n", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	} else if (!a->flags[O_DRY] && !a->flags[O_JSON]) {
		lua_getfield(L, mod, "last");
		lua_getfield(L, -1, "label");
		printf("%s: %s has every machine type, device and property it uses\n", file, lua_tostring(L, -1));
		lua_pop(L, 2);
	}
	lua_settop(L, desc);
	return ok;
}

/* ---- a dry run of a script that launches VMs itself ------------------------------ */

/* Under -n, --json and --check, qemu.launch, qemu.run and
 * qemu.launch_custom print (or check) what they would run, and the script
 * stops there: it cannot go on without the VM.  The stop is an error value
 * of its own, which main() turns into a note and the status below. */
#define DRY_STOP_MT "qlua.dry_stop"
struct dry_stop {
	int status;
	char note[400];     /* "" when the check's errors said it all */
};

static const struct args *dry_args;

static int dry_stop_tostring(lua_State *L)
{
	lua_pushstring(L, ((struct dry_stop *)luaL_checkudata(L, 1, DRY_STOP_MT))->note);
	return 1;
}

static void dry_launch(lua_State *L, const struct emit *e, int desc, const char *fname)
{
	const struct args *a = dry_args;
	char where[256], at[256];
	ck_where(L, 1, where, sizeof where);
	snprintf(at, sizeof at, "%.*s", (int)(strlen(where) > 2 ? strlen(where) - 2 : 0), where);
	int ok = 1;
	if (a->flags[O_CHECK] && desc) {
		int top = lua_gettop(L);
		lua_pushvalue(L, desc);
		ok = run_check(L, *at ? at : fname, where, a);
		lua_settop(L, top);
	}
	if (ok && a->flags[O_JSON])
		print_json(e);
	else if (ok && a->flags[O_DRY])
		print_dry(L, e);
	fflush(stdout);
	struct dry_stop *st = lua_newuserdatauv(L, sizeof *st, 0);
	luaL_setmetatable(L, DRY_STOP_MT);
	st->status = ok ? 0 : EXIT_USAGE;
	st->note[0] = '\0';  /* a failed check: its problems said it all */
	if (ok && (a->flags[O_DRY] || a->flags[O_JSON]))
		snprintf(st->note, sizeof st->note, "%sdry run: the script stops at qemu.%s, which would run "
		         "the command above (nothing was started)", where, fname);
	else if (ok && desc)
		snprintf(st->note, sizeof st->note, "%sdry run: the script stops at qemu.%s, whose VM was "
		         "checked (%s)", where, fname, a->flags[O_PROBE] ? "the VM was not started" : "nothing was started");
	else if (ok)
		snprintf(st->note, sizeof st->note, "%sdry run: the script stops at qemu.%s (a raw command "
		         "line: nothing to check; nothing was started)", where, fname);
	lua_error(L);
}

/* ---- signals ---------------------------------------------------------------- */

static lua_State *globalL;
static volatile sig_atomic_t in_msghandler;

/* Lua code that is running (not waiting in the loop) stops at its next
 * instruction: the hook raises, as in lua.c.  (lua_sethook is safe in a
 * signal handler.)  Not while an error is already on its way: a wait that
 * the signal ended raised its own message ("wait interrupted by signal
 * 15"), which must not be replaced. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	if (in_msghandler)
		return;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted by signal %d", loop_signal());
}

static void on_signal(int sig)
{
	if (globalL)
		lua_sethook(globalL, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int msghandler(lua_State *L)
{
	in_msghandler = 1;
	lua_sethook(L, NULL, 0, 0);
	if (luaL_testudata(L, 1, DRY_STOP_MT))
		return 1;  /* a dry run stopped the script: main() says so */
	const char *msg = lua_tostring(L, 1);
	if (!msg && luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
		msg = lua_tostring(L, -1);  /* an error value such as a QMP error */
	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	/* A traceback helps with bugs in scripts, not with a description that
	 * failed validation: those name their line already. */
	if (getenv("QLUA_TRACEBACK"))
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushstring(L, msg);
	return 1;
}

struct pmain_args {
	int argc;
	char **argv;
	struct args a;
	int status;
};

static void openlibs(lua_State *L, const char *script)
{
	lua_gc(L, LUA_GCSTOP);  /* as lua.c: no collection while the libraries open (nothing is garbage yet) */
	luaL_openlibs(L);
	if (script)
		qlua_path_script(L, script);
	luaL_requiref(L, "qemu", luaopen_qemu, 1);  /* package.loaded.qemu and global qemu */
	lua_gc(L, LUA_GCRESTART);
}

static int pmain(lua_State *L)
{
	struct pmain_args *p = lua_touserdata(L, 1);
	struct args *a = &p->a;
	if (a->lib)
		setenv("QLUA_PATH", a->lib, 1);  /* read by luaopen_qemu */
	if (a->flags[O_DRY] || a->flags[O_JSON] || a->flags[O_CHECK])
		kvm_cache_read_only();  /* dry runs create no file (accel = "auto" still probes) */
	openlibs(L, a->script ? p->argv[a->script] : NULL);
	int qemu = lua_gettop(L);

	if (a->describe) {
		print_describe(L, a->describe);
		return 0;
	}
	if (a->merge) {
		/* qlua --merge DIR...: lua/qemu/shards.lua reads its arguments */
		lua_getglobal(L, "require");
		lua_pushliteral(L, "qemu.shards");
		lua_call(L, 1, 1);
		lua_getfield(L, -1, "main");
		lua_createtable(L, p->argc - a->merge, 0);
		for (int i = a->merge; i < p->argc; i++) {
			lua_pushstring(L, p->argv[i]);
			lua_rawseti(L, -2, i - a->merge + 1);
		}
		lua_call(L, 1, 1);
		p->status = (int)lua_tointeger(L, -1);
		return 0;
	}
	/* arg, as lua.c sets it: arg[0] the script, arg[1..] its arguments,
	 * negative indices the interpreter and its options. */
	int base = a->script;  /* lua.c: with no script, arg[0] is the program */
	lua_createtable(L, p->argc - base, base + 1);
	for (int i = 0; i < p->argc; i++) {
		lua_pushstring(L, p->argv[i]);
		lua_rawseti(L, -2, i - base);
	}
	lua_setglobal(L, "arg");

	if (a->flags[O_DRY] || a->flags[O_JSON] || a->flags[O_CHECK]) {
		/* the script's (and -e's) own launches print instead of running */
		luaL_newmetatable(L, DRY_STOP_MT);
		lua_pushcfunction(L, dry_stop_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pop(L, 1);
		dry_args = a;
		ldry_hook = dry_launch;
		/* and what the script would start or write itself is refused */
		ldry_install(L, a->flags[O_PROBE] ? 3 : a->flags[O_CHECK] ? 2 : 1);
	}
	for (int i = 0; i < a->nexec; i++) {
		if (luaL_loadbuffer(L, a->exec[i], strlen(a->exec[i]), "=(command line)"))
			return lua_error(L);
		lua_call(L, 0, 0);
	}
	if (!a->script)
		return 0;

	const char *file = p->argv[a->script];
	if (luaL_loadfile(L, strcmp(file, "-") ? file : NULL))
		return lua_error(L);
	lua_Debug ar;
	lua_pushvalue(L, -1);
	lua_getinfo(L, ">S", &ar);
	main_chunk = lua_topointer(L, -1);
	int nargs = p->argc - a->script - 1;
	luaL_checkstack(L, nargs + 4, "too many arguments to script");
	for (int i = a->script + 1; i < p->argc; i++)
		lua_pushstring(L, p->argv[i]);
	if (needs_return_hook(file)) {
		main_thread = L;
		lua_sethook(L, on_return, LUA_MASKRET, 0);
	}
	lua_call(L, nargs, 1);
	lua_sethook(L, NULL, 0, 0);

	if (lua_isnil(L, -1)) {
		if (a->flags[O_CHECK])
			return luaL_error(L, "%s returned no VM description to check", file);
		if (a->flags[O_DRY] || a->flags[O_JSON])
			return luaL_error(L, "%s returned no VM description to print", file);
		return 0;
	}
	/* What it returned: errors blame the return statement's line. */
	char where[300];
	snprintf(where, sizeof where, "%s:%d: ", ar.short_src, return_line());
	if (!lua_istable(L, -1))
		return luaL_error(L, "%s%s returned a %s (expected a VM description or nothing)", where, file,
		                  luaL_typename(L, -1));
	int t = luaL_getmetafield(L, -1, "__name");
	int is_matrix = t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "qemu.matrix");
	if (t != LUA_TNIL)
		lua_pop(L, 1);
	if (is_matrix && a->flags[O_CHECK])
		return luaL_error(L, "%s returned a matrix: --%s checks a VM description (check the cells' "
		                  "descriptions with qemu.check)", file, a->flags[O_PROBE] ? "probe" : "check");
	if (is_matrix && (a->flags[O_DRY] || a->flags[O_JSON]))
		return luaL_error(L, "%s returned a matrix: -n and --json print a VM description's command "
		                  "line (use the matrix's --list)", file);
	if (is_matrix) {
		/* a matrix: it takes the script's arguments as its options */
		lua_getfield(L, -1, "main");
		lua_insert(L, -2);
		lua_createtable(L, nargs, 0);
		for (int i = a->script + 1; i < p->argc; i++) {
			lua_pushstring(L, p->argv[i]);
			lua_rawseti(L, -2, i - a->script);
		}
		lua_call(L, 2, 1);
		p->status = (int)lua_tointeger(L, -1);
		return 0;
	}

	if (a->flags[O_CHECK] && !run_check(L, file, where, a)) {
		p->status = EXIT_USAGE;
		return 0;
	}
	if (a->flags[O_CHECK] && !a->flags[O_DRY] && !a->flags[O_JSON])
		return 0;
	struct emit e;
	struct spawn_ids ids;  /* who QEMU runs as */
	struct runtime rt = { .serial = "stdio" };  /* the console on this terminal */
	qlua_build(L, -1, where, &e, &ids, &rt);
	if (a->flags[O_JSON]) {
		print_json(&e);
		return 0;
	}
	if (a->flags[O_DRY]) {
		print_dry(L, &e);
		return 0;
	}
	char err[600] = "";
	if (prepare_run(&e, err, sizeof err) < 0) {
		lua_pushfstring(L, "%s%s", where, err);
		return lua_error(L);
	}
	int *fds = lua_newuserdatauv(L, (e.nfds + 1) * sizeof *fds, 0);
	for (int i = 0; i < e.nfds; i++)
		fds[i] = e.fds[i]->fd;
	fflush(stdout);
	p->status = foreground_run(e.argv, fds, e.nfds, &ids, err, sizeof err);
	if (*err) {
		lua_pushstring(L, err);
		lvm_exec_status = p->status;  /* 126/127, as a shell reports it; 2: not started; 128 + a signal */
		/* a prefix is enough: main compares the message's start with it */
		snprintf(lvm_exec_error, sizeof lvm_exec_error, "%.*s", (int)sizeof lvm_exec_error - 1, err);
		return lua_error(L);
	}
	(void)qemu;
	return 0;
}

/* All of main but freeing the -e list, which main does however this returns. */
static int qlua_main(struct pmain_args *p)
{
	if (parse(p->argc, p->argv, &p->a) < 0)
		return EXIT_USAGE;
	if (p->a.flags[O_HELP]) {
		usage(stdout);
		return 0;
	}
	if (p->a.flags[O_VERSION]) {
		printf("qlua %s (%s)\n", QLUA_VERSION, LUA_RELEASE);
		return 0;
	}
	if (!p->a.script && !p->a.nexec && !p->a.describe && !p->a.merge) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (lib_dir_ok(&p->a) < 0)
		return EXIT_USAGE;
	lua_State *L = luaL_newstate();
	if (!L) {
		fputs("qlua: cannot create a Lua state (out of memory)\n", stderr);
		return 1;
	}
	lalloc_install(L);
	globalL = L;
	loop_watch_signals(on_signal);
	lua_pushcfunction(L, msghandler);
	lua_pushcfunction(L, pmain);
	lua_pushlightuserdata(L, p);
	int status = EXIT_SUCCESS;
	int rc = lua_pcall(L, 1, 0, 1);
	struct dry_stop *stop = rc != LUA_OK ? luaL_testudata(L, -1, DRY_STOP_MT) : NULL;
	if (stop) {
		if (stop->note[0])
			fprintf(stderr, "qlua: %s\n", stop->note);
		status = stop->status;
	} else if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		fprintf(stderr, "qlua: %s\n", msg);
		/* 126/127 only when the script ended on QEMU failing to exec, not
		 * on a later error after it caught that one */
		status = lvm_exec_status && msg && !strncmp(msg, lvm_exec_error, strlen(lvm_exec_error)) ? lvm_exec_status : EXIT_USAGE;
	} else {
		status = p->status;
	}
	int sig = loop_signal();
	/* QEMU never outlives qlua unless detached: whatever still runs is
	 * stopped now, gracefully (QMP quit, SIGTERM, SIGKILL: vm:shutdown's
	 * steps without the powerdown, bounded as a whole) */
	vm_shutdown_all(QLUA_EXIT_TIMEOUT);
	globalL = NULL;
	lua_close(L);
	if (sig)
		status = 128 + sig;
	return status;
}

int main(int argc, char **argv)
{
	struct pmain_args p = { .argc = argc, .argv = argv };
	int status = qlua_main(&p);
	free(p.a.exec);
	return status;
}
