/* vm_firmware.c - firmware = 'bios' | 'uefi' | 'uefi-secure' (vm_kind.h):
 * the checks (the firmware once, a machine with flash, OVMF's images
 * there now) and, for UEFI, OVMF's code as flash unit 0 and a private copy
 * of its variables as unit 1, made by prepare steps at launch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vm_kind.h"

/* Where OVMF's images are: $QLUA_OVMF_DIR (for another build, or a spec's
 * empty directory), else Debian's ovmf package.  A relative directory
 * starting with '-' gets "./" (it becomes an argument of cp). */
static const char *ovmf_dir(struct arena *a, const char **env)
{
	const char *d = getenv("QLUA_OVMF_DIR");
	*env = d && *d ? d : NULL;
	if (!*env)
		return "/usr/share/OVMF";
	size_t n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		n--;
	char *buf = arena_alloc(a, n + 3);
	snprintf(buf, n + 3, "%s%.*s", d[0] == '-' ? "./" : "", (int)n, d);
	return buf;
}

/* The code image (read-only, flash unit 0) and the variables template
 * (copied per VM, unit 1) of a firmware value; Secure Boot takes the
 * secboot build and the variables with Microsoft's keys enrolled. */
static void ovmf_images(struct arena *a, int secure, const char **code, const char **vars)
{
	const char *env, *dir = ovmf_dir(a, &env);
	size_t n = strlen(dir) + 32;
	char *c = arena_alloc(a, n), *v = arena_alloc(a, n);
	snprintf(c, n, "%s/%s", dir, secure ? "OVMF_CODE_4M.secboot.fd" : "OVMF_CODE_4M.fd");
	snprintf(v, n, "%s/%s", dir, secure ? "OVMF_VARS_4M.ms.fd" : "OVMF_VARS_4M.fd");
	*code = c, *vars = v;
}

static int is_type(const char *type, const char *name, const char *prefix)
{
	return !strcmp(type, name) || !strncmp(type, prefix, strlen(prefix));
}

/* firmware: the firmware once, a machine with flash for OVMF (q35 with SMM
 * for Secure Boot), and OVMF's images present now rather than QEMU
 * failing at launch. */
void vm_check_firmware(struct ck *c, const struct rec *vm)
{
	if (!has(vm, VM_FIRMWARE))
		return;
	const char *fw = eval(vm, VM_FIRMWARE);
	if (has(vm, VM_BIOS) || has(vm, VM_PFLASH))
		ck_fail(c, "firmware", "the VM has %s too (give the firmware once)", has(vm, VM_BIOS) ? "bios" : "pflash");
	if (!strcmp(fw, "bios"))
		return;  /* QEMU's default: nothing to render */
	int secure = !strcmp(fw, "uefi-secure");
	const struct rec *ma = vm_sec(vm, VM_MACHINE);
	const char *type = ma && has(ma, MA_TYPE) ? sval(ma, MA_TYPE) : NULL;
	/* isapc and microvm give OVMF no flash (microvm boots qboot with -bios) */
	int q35 = type && is_type(type, "q35", "pc-q35-");
	int pc = !type || is_type(type, "pc", "pc-i440fx-");
	if (secure && !q35) {
		if (type)
			ck_fail(c, "firmware", "'uefi-secure' needs machine.type 'q35', not '%s' (OVMF's Secure Boot "
			        "needs SMM on q35)", type);
		ck_fail(c, "firmware", "'uefi-secure' needs machine.type 'q35' (QEMU's default is 'pc'; OVMF's "
		        "Secure Boot needs SMM on q35)");
	}
	if (!q35 && !pc)
		ck_fail(c, "firmware", "'%s' needs machine.type 'q35' or 'pc', not '%s' (it has no flash for OVMF)",
		        fw, type);
	for (int p = 0; secure && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++) {
		const struct prop *o = &ma->v[MA_OPTIONS].u.props.v[p];
		if (!strcmp(o->key, "smm") && strcmp(o->val, "on"))
			ck_fail(c, "machine.options.smm", "'%s' with firmware 'uefi-secure' (Secure Boot needs SMM: "
			        "leave smm out, or set it on)", o->val);
	}
	const struct rec *k = vm_sec(vm, VM_KERNEL);
	if (k) {
		/* OVMF's direct kernel boot loads an EFI or bzImage kernel; an ELF
		 * (the PVH vmlinux SeaBIOS boots) ends in the UEFI shell instead */
		unsigned char magic[4] = { 0 };
		FILE *f = fopen(sval(k, KE_PATH), "rb");
		if (f) {
			size_t got = fread(magic, 1, 4, f);
			fclose(f);
			if (got == 4 && !memcmp(magic, "\177ELF", 4))
				ck_fail(c, "kernel.path", "'%s' is an ELF image, which OVMF cannot boot (firmware '%s'; give a "
				        "bzImage, such as Debian's vmlinuz)", sval(k, KE_PATH), fw);
		}
	}
	const char *code, *vars, *env;
	ovmf_images(c->a, secure, &code, &vars);
	ovmf_dir(c->a, &env);
	const char *need[] = { code, vars };
	for (int i = 0; i < 2; i++) {
		if (access(need[i], R_OK) == 0)
			continue;
		char why[160];
		if (env)
			snprintf(why, sizeof why, "QLUA_OVMF_DIR is '%s'", env);
		else
			snprintf(why, sizeof why, "install Debian's 'ovmf' package");
		if (errno == ENOENT)
			ck_fail(c, "firmware", "'%s' needs OVMF, and %s does not exist (%s)", fw, need[i], why);
		ck_fail(c, "firmware", "'%s' needs OVMF, and %s cannot be read: %s (%s)", fw, need[i], strerror(errno), why);
	}
}

/* A name nobody can guess for a VM's variables directory: 12 hex digits
 * from getrandom (the directory is made with mkdir, without -p, at launch,
 * so even a guessed name could not be planted). */
static void random_hex(char *out)
{
	unsigned char b[6];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 30) ^
		                       (unsigned long long)ts.tv_sec;
		for (int i = 0; i < 6; i++)
			b[i] = (unsigned char)(x >> (8 * i));
	}
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* 'uefi'/'uefi-secure': OVMF's code read-only as flash unit 0, and a
 * private, writable copy of its variables as unit 1: a fresh directory
 * ($TMPDIR or /tmp, qlua-uefi.<12 hex digits>, mode 0700) that the launch
 * makes and fills (prepare steps, run before the description's own; given
 * to the VM's uid/gid, whom QEMU runs as) and
 * removes when qlua exits.  Chosen here, at render, so each launch (each
 * matrix cell) has its own, and a dry run only prints the commands. */
void vm_render_firmware(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	if (!has(vm, VM_FIRMWARE) || eis(vm, VM_FIRMWARE, "bios"))
		return;
	int secure = eis(vm, VM_FIRMWARE, "uefi-secure");
	const char *code, *vars;
	ovmf_images(e->a, secure, &code, &vars);
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	size_t tn = strlen(tmp);
	while (tn > 1 && tmp[tn - 1] == '/')
		tn--;
	char hex[13];
	random_hex(hex);
	size_t n = tn + 64;
	char *dir = arena_alloc(e->a, n), *copy = arena_alloc(e->a, n);
	snprintf(dir, n, "%s%.*s/qlua-uefi.%s", tmp[0] == '-' ? "./" : "", (int)tn, tmp, hex);
	snprintf(copy, n, "%s/OVMF_VARS.fd", dir);

	static const char *const mk[] = { "mkdir", "-m", "0700", NULL, NULL };
	static const char *const cp[] = { "cp", NULL, NULL, NULL };
	static const char *const chown[] = { "chown", NULL, NULL, NULL, NULL };
	/* QEMU started as another user (uid, gid) opens the copy as that user */
	int owner = has(vm, VM_UID) || has(vm, VM_GID);
	e->steps = arena_alloc(e->a, 3 * sizeof *e->steps);
	e->nsteps = 2 + owner;
	e->steps[0].argv = arena_alloc(e->a, sizeof mk);
	memcpy(e->steps[0].argv, mk, sizeof mk);
	e->steps[0].argv[3] = dir;
	e->steps[0].argc = 4;
	e->steps[0].remove = dir;
	e->steps[1].argv = arena_alloc(e->a, sizeof cp);
	memcpy(e->steps[1].argv, cp, sizeof cp);
	e->steps[1].argv[1] = (char *)vars;
	e->steps[1].argv[2] = copy;
	e->steps[1].argc = 3;
	e->steps[1].remove = NULL;
	if (owner) {
		char *who = arena_alloc(e->a, 48);
		size_t w = 0;
		if (has(vm, VM_UID))
			w += (size_t)snprintf(who, 48, "%lld", ival(vm, VM_UID));
		if (has(vm, VM_GID))
			snprintf(who + w, 48 - w, ":%lld", ival(vm, VM_GID));
		else
			who[w] = '\0';
		e->steps[2].argv = arena_alloc(e->a, sizeof chown);
		memcpy(e->steps[2].argv, chown, sizeof chown);
		e->steps[2].argv[1] = who;
		e->steps[2].argv[2] = dir;
		e->steps[2].argv[3] = copy;
		e->steps[2].argc = 4;
		e->steps[2].remove = NULL;
	}

	for (int unit = 0; unit < 2; unit++) {
		opt_begin(e, "-drive");
		opt_cstr(e, "if", "pflash");
		opt_cstr(e, "format", "raw");
		opt_int(e, "unit", unit);
		if (!unit)
			opt_bool(e, "readonly", 1);
		opt_cstr(e, "file", unit ? copy : code);
		opt_end(e);
	}
	if (secure)  /* the flash answers only to SMM code: what keeps the variables safe */
		emit_arg(e, "-global", "driver=cfi.pflash01,property=secure,value=on", 44);
}
