/* render_runtime.c - what qlua adds to a command line it launches (render.h:
 * struct runtime), after the description's own options: its private QMP
 * channel, the captured console, the guest agent's channel, and the
 * terminal's serial port for qlua vm.lua; and the console option's rules. */
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "vm_kind.h"

const char *runtime_console_problem(const char *v, size_t n, int launch, int *choice)
{
	*choice = 0;
	if (memchr(v, '\0', n))
		return "contains a NUL byte, which cannot be passed to QEMU";
	if (memchr(v, '\n', n) || memchr(v, '\r', n))
		return "contains a line break, which QEMU cannot take";
	if (!strcmp(v, "stdio") || !strcmp(v, "none") || (launch && !strcmp(v, "capture")) ||
	    (!strncmp(v, "file:", 5) && v[5]))
		return NULL;
	*choice = 1;
	return launch ? "expected 'stdio', 'capture', 'none' or 'file:PATH'" : "expected 'stdio', 'none' or 'file:PATH'";
}

/* The guest agent's channel (qemu.launch's agent = true): a virtio-serial
 * controller of its own on the machine's virtio transport, and the port
 * qemu-ga looks for by name. */
static void render_agent(struct emit *e, int t, struct qfd *fd)
{
	static const char *const controller[] = {
		[TR_PCI] = "virtio-serial-pci", [TR_MMIO] = "virtio-serial-device", [TR_CCW] = "virtio-serial-ccw",
	};
	const char *drv = t < TR_AP ? controller[t] : controller[TR_PCI];
	opt_begin(e, "-chardev");
	opt_head(e, "socket", 6);
	opt_cstr(e, "id", "qlua-agent");
	opt_fd(e, "fd", fd);
	opt_end(e);
	opt_begin(e, "-device");
	opt_head(e, drv, strlen(drv));
	opt_cstr(e, "id", "qlua-agent-serial");
	opt_end(e);
	opt_begin(e, "-device");
	opt_head(e, "virtserialport", 14);
	opt_cstr(e, "bus", "qlua-agent-serial.0");
	opt_cstr(e, "chardev", "qlua-agent");
	opt_cstr(e, "name", "org.qemu.guest_agent.0");
	opt_end(e);
}

static void render_channels(struct render *rc, const struct runtime *rt)
{
	struct emit *e = rc->e;
	if (rt->qmp) {
		opt_begin(e, "-chardev");
		opt_head(e, "socket", 6);
		opt_cstr(e, "id", "qlua-qmp");
		opt_fd(e, "fd", rt->qmp);
		opt_end(e);
		opt_begin(e, "-mon");
		opt_cstr(e, "chardev", "qlua-qmp");
		opt_cstr(e, "mode", "control");
		opt_end(e);
	}
	if (rt->console || rt->console_file) {
		opt_begin(e, "-chardev");
		if (rt->console) {
			opt_head(e, "socket", 6);
			opt_cstr(e, "id", "qlua-console");
			opt_fd(e, "fd", rt->console);
		} else {
			opt_head(e, "file", 4);
			opt_cstr(e, "id", "qlua-console");
			opt_cstr(e, "path", rt->console_file);
		}
		opt_end(e);
		emit_arg(e, "-serial", "chardev:qlua-console", 20);
	}
	if (rt->agent)
		render_agent(e, rc->transport, rt->agent);
}

/* Field `name` of record r when it is set, else NULL. */
static const struct qval *set_field(const struct rec *r, const char *name)
{
	int f = schema_field(r->k, name, strlen(name));
	return f >= 0 && r->v[f].set ? &r->v[f] : NULL;
}

static int is_str(const struct qval *v, const char *s)
{
	return v && v->u.str.n == strlen(s) && !memcmp(v->u.str.s, s, v->u.str.n);
}

/* An isa-serial device that takes port 0 (ttyS0): its index is 0, or unset
 * (QEMU gives it the first free port, 0 when no -serial came before). */
static int isa_serial_first(const struct rec *d)
{
	if (!is_str(set_field(d, "driver"), "isa-serial"))
		return 0;
	for (int p = 0; p < d->nprops; p++)
		if (!strcmp(d->props[p].key, "index"))
			return d->props[p].len == 1 && d->props[p].val[0] == '0';
	return 1;
}

const char *render_serial_taken(const struct rec *vm)
{
	const struct qval *devs = vm->v[VM_DEVICES].set ? &vm->v[VM_DEVICES] : NULL;
	for (int i = 0; devs && i < devs->u.recs.n; i++) {
		const struct rec *d = devs->u.recs.v[i];
		if (!strcmp(d->k->name, "legacy_serial"))
			return "a legacy_serial device";
		if (isa_serial_first(d))
			return "an isa-serial device";
		const struct qval *be = !strcmp(d->k->name, "chardev") ? set_field(d, "backend") : NULL;
		if (be && !strcmp(kind_fields(d->k)[schema_field(d->k, "backend", 7)].choices[be->u.i], "console"))
			return "a chardev on QEMU's stdio";
	}
	const struct qval *x = vm->v[VM_EXTRA_ARGS].set ? &vm->v[VM_EXTRA_ARGS] : NULL;
	for (int i = 0; x && i < x->u.strs.n; i++)
		if (!strcmp(x->u.strs.v[i], "-serial") || !strcmp(x->u.strs.v[i], "--serial"))
			return "-serial in extra_args";
	return NULL;
}

/* -nographic puts the first serial port on stdio itself, unless
 * -nodefaults took the port away (or the description connected it). */
static int nographic_serial(const struct rec *vm)
{
	return vm_knob_on(vm, KN_NO_GRAPHIC) && !vm_knob_on(vm, KN_NO_DEFAULTS);
}

int render_console_on_stdio(const struct rec *vm)
{
	return vm_knob_on(vm, KN_NO_GRAPHIC) || !render_serial_taken(vm);
}

/* console = "stdio" (qlua vm.lua): the guest's first serial port on the
 * terminal, unless the description connects that port itself; nothing
 * is added where -nographic does it already (QEMU gives stdio to one
 * chardev only).  "none": no serial port. */
static void render_serial(struct emit *e, const struct rec *vm, const char *serial)
{
	if (!strcmp(serial, "none"))
		emit_arg(e, "-serial", "none", 4);
	else if (!render_serial_taken(vm) && !nographic_serial(vm))
		emit_arg(e, "-serial", "stdio", 5);
}

void render_runtime(struct render *rc, const struct runtime *rt)
{
	const struct rec *vm = rc->vm;
	render_channels(rc, rt);
	/* whoever chose the console chose no window (QEMU would open one, or
	 * fail without $DISPLAY); -nographic says so already */
	if ((rt->serial || rt->console || rt->console_file) && !vm_knob_on(vm, KN_NO_GRAPHIC))
		emit_arg(rc->e, "-display", "none", 4);
	if (rt->serial)
		render_serial(rc->e, vm, rt->serial);
}
