/* render.c - see render.h.  How each field type is written as key=value
 * lives here, once; kinds say which key and which option. */
#include "render.h"

#include <stdio.h>
#include <string.h>

void render_field(struct emit *e, const struct rec *r, int f)
{
	const struct field *fl = &r->k->fields[f];
	const struct qval *v = &r->v[f];
	char b[32];
	if (!v->set || (!fl->key && fl->type != T_PROPS))
		return;
	e->trace_field = fl->name;  /* for a traced build (qemu.check): the key's field */
	switch ((enum ftype)fl->type) {
	case T_STR: case T_NAME: case T_ID: case T_REF: case T_PATH: case T_MAC:
	case T_UUID: case T_BDF: case T_RTCBASE: case T_DEVNO:
		opt_str(e, fl->key, v->u.str.s, v->u.str.n);
		break;
	case T_FILE:
		if (v->u.str.fd)
			opt_fd(e, fl->key, v->u.str.fd);
		else
			opt_str(e, fl->key, v->u.str.s, v->u.str.n);
		break;
	case T_ENUM:
		opt_cstr(e, fl->key, fl->choices[v->u.i]);
		break;
	case T_BOOL:
		opt_bool(e, fl->key, v->u.i);
		break;
	case T_UINT:
		opt_int(e, fl->key, v->u.i);
		break;
	case T_SIZE:
		opt_uint(e, fl->key, v->u.size);
		break;
	case T_PCIADDR:
		if (v->u.pci.fn >= 0)
			snprintf(b, sizeof b, "0x%x.%x", v->u.pci.slot, v->u.pci.fn);
		else
			snprintf(b, sizeof b, "0x%x", v->u.pci.slot);
		opt_cstr(e, fl->key, b);
		break;
	case T_HEX16:
		snprintf(b, sizeof b, "0x%04llx", v->u.i);
		opt_cstr(e, fl->key, b);
		break;
	case T_FD:
		opt_fd(e, fl->key, v->u.fd);
		break;
	case T_FDS:
		opt_fds(e, fl->key, v->u.fds.v, v->u.fds.n);
		break;
	case T_PROPS:
		render_props(e, v->u.props.v, v->u.props.n);
		break;
	case T_STRS: case T_UINTS: case T_REC: case T_RECS: case T_DEVS: case T_NTYPES:
		break; /* structure, not values: the kind's hook renders them */
	}
	e->trace_field = NULL;
}

void render_fields(struct emit *e, const struct rec *r, int opt)
{
	for (int f = 0; f < r->k->nfields; f++)
		if (r->k->fields[f].opt == opt)
			render_field(e, r, f);
}

void render_props(struct emit *e, const struct prop *p, int n)
{
	const char *field = e->trace_field;
	for (int i = 0; i < n; i++) {
		e->trace_field = p[i].key;
		e->trace_free = 1;
		opt_str(e, p[i].key, p[i].val, p[i].len);
	}
	e->trace_field = field;
	e->trace_free = 0;
}

/* The VM render_vm is rendering: device hooks see its knobs through it. */
static const struct rec *cur_vm;

int render_knob(const char *name)
{
	return cur_vm && vm_knob(cur_vm, name);
}

const struct rec *render_bus_device(const char *bus, size_t n)
{
	return cur_vm ? vm_bus_device(cur_vm, bus, n) : NULL;
}

int render_transport(const struct rec *r)
{
	if (r->tr)
		return r->tr - 1;  /* worked out by check_devices in this build */
	return cur_vm ? vm_transport(cur_vm, r, NULL, 0) : TR_PCI;
}

const char *render_driver(const struct rec *r, size_t *n)
{
	int f = schema_field(r->k, "driver", 6);
	if (f >= 0 && r->v[f].set && r->k->fields[f].type == T_NAME) {
		*n = r->v[f].u.str.n;
		return r->v[f].u.str.s;
	}
	const char *s = schema_transport_name(r, render_transport(r));
	if (!s)
		s = "";  /* not reached: sections.c refuses a transport without a name */
	*n = strlen(s);
	return s;
}

static int prefix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);
	return n >= pn && !memcmp(s, p, pn);
}

static int suffix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);
	return n >= pn && !memcmp(s + n - pn, p, pn);
}

int render_is_virtio(const char *d, size_t n)
{
	return prefix(d, n, "virtio-") || prefix(d, n, "vhost-");
}

/* A virtio-pci device that is transitional by default (its legacy
 * interface is on when it sits on a root bus): QEMU refuses
 * iommu_platform=on on it unless disable-legacy=on.  The vhost-user
 * devices below are modern-only and have no disable-legacy at all. */
int render_needs_modern(const char *d, size_t n)
{
	static const char *const modern_only[] = { "vhost-user-fs-pci", "vhost-user-gpio-pci",
	                                           "vhost-user-i2c-pci", "vhost-user-rng-pci", NULL };
	if (!render_is_virtio(d, n) || !suffix(d, n, "-pci"))
		return 0;
	for (int i = 0; modern_only[i]; i++)
		if (strlen(modern_only[i]) == n && !memcmp(modern_only[i], d, n))
			return 0;
	return 1;
}

void render_virtio(struct emit *e, const char *driver, size_t n)
{
	if (!render_knob("iommu_platform") || !render_is_virtio(driver, n))
		return;
	if (render_needs_modern(driver, n))
		opt_bool(e, "disable-legacy", 1);
	opt_bool(e, "iommu_platform", 1);
}

void render_plain_device(struct emit *e, const struct rec *r, int driver_field)
{
	opt_begin(e, "-device");
	opt_head(e, sval(r, driver_field), slen(r, driver_field));
	render_fields(e, r, 1);
	render_props(e, r->props, r->nprops);
	opt_end(e);
}

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
static void render_agent(struct emit *e, struct qfd *fd)
{
	static const struct kind no_transport;
	static const char *const controller[] = {
		[TR_PCI] = "virtio-serial-pci", [TR_MMIO] = "virtio-serial-device", [TR_CCW] = "virtio-serial-ccw",
	};
	struct rec none = { .k = &no_transport };
	int t = vm_transport(cur_vm, &none, NULL, 0);
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

static void render_runtime(struct emit *e, const struct runtime *rt)
{
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
		render_agent(e, rt->agent);
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
	const struct qval *devs = set_field(vm, "devices");
	for (int i = 0; devs && i < devs->u.recs.n; i++) {
		const struct rec *d = devs->u.recs.v[i];
		if (!strcmp(d->k->name, "legacy_serial"))
			return "a legacy_serial device";
		if (isa_serial_first(d))
			return "an isa-serial device";
		const struct qval *be = !strcmp(d->k->name, "chardev") ? set_field(d, "backend") : NULL;
		if (be && !strcmp(d->k->fields[schema_field(d->k, "backend", 7)].choices[be->u.i], "console"))
			return "a chardev on QEMU's stdio";
	}
	const struct qval *x = set_field(vm, "extra_args");
	for (int i = 0; x && i < x->u.strs.n; i++)
		if (!strcmp(x->u.strs.v[i], "-serial") || !strcmp(x->u.strs.v[i], "--serial"))
			return "-serial in extra_args";
	return NULL;
}

/* -nographic puts the first serial port on stdio itself, unless
 * -nodefaults took the port away (or the description connected it). */
static int nographic_serial(const struct rec *vm)
{
	return vm_knob(vm, "no_graphic") && !vm_knob(vm, "no_defaults");
}

int render_console_on_stdio(const struct rec *vm)
{
	return vm_knob(vm, "no_graphic") || !render_serial_taken(vm);
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

void render_vm(struct emit *e, const struct rec *vm, const char *path, const struct runtime *rt)
{
	emit_word(e, path);
	cur_vm = vm;
	schema_vm.render(e, vm);
	if (rt)
		render_runtime(e, rt);
	/* whoever chose the console chose no window (QEMU would open one, or
	 * fail without $DISPLAY); -nographic says so already */
	if (rt && (rt->serial || rt->console || rt->console_file) && !vm_knob(vm, "no_graphic"))
		emit_arg(e, "-display", "none", 4);
	if (rt && rt->serial)
		render_serial(e, vm, rt->serial);
	render_vm_tail(e, vm);
	cur_vm = NULL;
}
