/* vm_hooks.c - the VM's options whose shape is irregular (vm_kind.h): two
 * fields in one option, one value split into several options, a backend
 * and its frontend that share a made-up id.  Everything else the VM
 * renders is data: the rows of vm_kind.c. */
#include <stdio.h>
#include <string.h>

#include "values.h"
#include "vm_kind.h"

/* -name guest=NAME,debug-threads=on: guest= spelled out, as a bare name
 * containing '=' would be read as a key; debug-threads only when on. */
void vm_render_name(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	int debug = has(vm, VM_DEBUG) && ival(vm, VM_DEBUG);
	if (!has(vm, VM_NAME) && !debug)
		return;
	opt_begin(e, "-name");
	if (has(vm, VM_NAME))
		opt_str(e, "guest", sval(vm, VM_NAME), slen(vm, VM_NAME));
	if (debug)
		opt_bool(e, "debug-threads", 1);
	opt_end(e);
}

/* -machine TYPE,<options>: also where guest RAM's backend is named, and
 * SMM switched on for Secure Boot. */
void vm_render_machine(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	const struct rec *ma = vm_sec(vm, VM_MACHINE);
	int backend = vm_memory_backend(vm);
	if (!(ma && (has(ma, MA_TYPE) || has(ma, MA_OPTIONS))) && !backend)
		return;
	opt_begin(e, "-machine");
	if (ma && has(ma, MA_TYPE))
		opt_head(e, sval(ma, MA_TYPE), slen(ma, MA_TYPE));
	if (ma && has(ma, MA_OPTIONS))
		render_field(e, ma, MA_OPTIONS);
	if (backend)
		opt_cstr(e, "memory-backend", "qlua-mem");
	if (eis(vm, VM_FIRMWARE, "uefi-secure") && !vm_machine_option_set(ma, "smm"))
		opt_bool(e, "smm", 1);  /* Secure Boot's variables are guarded by SMM (checked: q35) */
	opt_end(e);
}

/* "kvm:tcg" as one -accel per accelerator: QEMU tries them in order. */
void vm_render_accel(struct render *rc, const struct rec *vm)
{
	const struct rec *ma = vm_sec(vm, VM_MACHINE);
	if (!ma || !has(ma, MA_ACCEL))
		return;
	const char *s = sval(ma, MA_ACCEL), *end = s + slen(ma, MA_ACCEL);
	while (s < end) {
		const char *colon = memchr(s, ':', end - s);
		size_t n = (colon ? colon : end) - s;
		opt_begin(rc->e, "-accel");
		opt_head(rc->e, s, n);
		opt_end(rc->e);
		s += n + 1;
	}
}

/* -cpu MODEL,<cpu_features>: two fields, one option. */
void vm_render_cpu(struct render *rc, const struct rec *vm)
{
	if (!has(vm, VM_CPU_MODEL))
		return;
	opt_begin(rc->e, "-cpu");
	opt_head(rc->e, sval(vm, VM_CPU_MODEL), slen(vm, VM_CPU_MODEL));
	render_field(rc->e, vm, VM_CPU_FEATURES);
	opt_end(rc->e);
}

/* Each monitor: a socket chardev (the backend) and the -mon on it (the
 * frontend), joined by the id qlua-qmpN. */
void vm_render_qmp(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	char b[32];
	for (int i = 0; has(vm, VM_QMP) && i < vm->v[VM_QMP].u.recs.n; i++) {
		const struct rec *q = vm->v[VM_QMP].u.recs.v[i];
		int server = has(q, QM_SERVER) ? ival(q, QM_SERVER) : has(q, QM_PATH);
		/* "qlua-qmp<i>" by hand (snprintf was a third of this): at most 20
		 * digits, so the prefix fits before them */
		char *id = val_digits(b, (unsigned long long)i) - 8;
		memcpy(id, "qlua-qmp", 8);
		opt_begin(e, "-chardev");
		opt_head(e, "socket", 6);
		opt_str(e, "id", id, (size_t)(b + sizeof b - id));
		if (has(q, QM_PATH))
			opt_str(e, "path", sval(q, QM_PATH), slen(q, QM_PATH));
		else
			opt_fd(e, "fd", q->v[QM_FD].u.fd);
		if (server) {
			opt_bool(e, "server", 1);
			opt_bool(e, "wait", ival(q, QM_WAIT));
		}
		opt_end(e);
		opt_begin(e, "-mon");
		opt_str(e, "chardev", id, (size_t)(b + sizeof b - id));
		opt_cstr(e, "mode", eis(q, QM_PROTOCOL, "hmp") ? "readline" : "control");
		if (eis(q, QM_PROTOCOL, "qmp-pretty"))
			opt_bool(e, "pretty", 1);
		opt_end(e);
	}
}

/* -drive if=pflash per image: -pflash FILE leaves QEMU to guess the format
 * (and warn). */
void vm_render_pflash(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	for (int i = 0; has(vm, VM_PFLASH) && i < vm->v[VM_PFLASH].u.strs.n; i++) {
		opt_begin(e, "-drive");
		opt_cstr(e, "if", "pflash");
		opt_cstr(e, "format", "raw");
		opt_int(e, "unit", i);
		opt_str(e, "file", vm->v[VM_PFLASH].u.strs.v[i], vm->v[VM_PFLASH].u.strs.len[i]);
		opt_end(e);
	}
}

/* -incoming URI: one argument, not key=value; and govmm's -S: the migrated
 * VM stays paused until told to go on. */
void vm_render_incoming(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	const struct rec *in = vm_sec(vm, VM_INCOMING);
	char b[32];
	if (!in)
		return;
	if (!vm_knob_on(vm, KN_STOPPED))
		emit_flag(e, "-S");
	if (eis(in, IN_TYPE, "fd")) {
		snprintf(b, sizeof b, "fd:%d", emit_fdnum(e, in->v[IN_FD].u.fd));
		emit_arg(e, "-incoming", b, strlen(b));
	} else if (eis(in, IN_TYPE, "exec")) {
		/* the command goes as it is */
		size_t n = slen(in, IN_EXEC);
		char *s = arena_alloc(e->a, n + 6);
		memcpy(s, "exec:", 5);
		memcpy(s + 5, sval(in, IN_EXEC), n);
		emit_arg(e, "-incoming", s, n + 5);
	} else {
		emit_arg(e, "-incoming", "defer", 5);
	}
}

/* Not options: what runs before QEMU, after the steps rendering added
 * (vm_render_firmware's). */
void vm_render_prepare(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	if (!has(vm, VM_PREPARE))
		return;
	const struct qval *pr = &vm->v[VM_PREPARE];
	struct emit_step *old = e->steps;
	int base = e->nsteps;
	e->steps = arena_alloc(e->a, (base + pr->u.recs.n) * sizeof *e->steps);
	if (base)
		memcpy(e->steps, old, base * sizeof *e->steps);
	e->nsteps = base + pr->u.recs.n;
	for (int k = 0; k < pr->u.recs.n; k++) {
		const struct rec *st = pr->u.recs.v[k];
		const struct qval *av = &st->v[PR_ARGV];
		int i = base + k;
		e->steps[i].argv = arena_alloc(e->a, (av->u.strs.n + 1) * sizeof *e->steps[i].argv);
		for (int j = 0; j < av->u.strs.n; j++)
			e->steps[i].argv[j] = arena_strndup(e->a, av->u.strs.v[j], av->u.strs.len[j]);
		e->steps[i].argc = av->u.strs.n;
		e->steps[i].remove = has(st, PR_REMOVE) ? arena_strndup(e->a, sval(st, PR_REMOVE), slen(st, PR_REMOVE)) : NULL;
	}
}
