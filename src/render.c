/* render.c - see render.h.  How each field type is written, as key=value
 * or as an option of its own, lives here once (one row per type); kinds say
 * which key, flag and option. */
#include "render.h"

#include <stdio.h>
#include <string.h>

#include "values.h"

/* ---- how each field type is written ---------------------------------------- */

static void kv_str(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_str(e, fl->key, v->u.str.s, v->u.str.n);
}

static void kv_file(struct emit *e, const struct field *fl, const struct qval *v)
{
	if (v->u.str.fd)
		opt_fd(e, fl->key, v->u.str.fd);
	else
		opt_str(e, fl->key, v->u.str.s, v->u.str.n);
}

static void kv_enum(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_cstr(e, fl->key, fl->choices[v->u.i]);
}

static void kv_bool(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_bool(e, fl->key, v->u.i);
}

static void kv_int(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_int(e, fl->key, v->u.i);
}

static void kv_size(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_uint(e, fl->key, v->u.size);
}

static void kv_pciaddr(struct emit *e, const struct field *fl, const struct qval *v)
{
	char b[32];
	if (v->u.pci.fn >= 0)
		snprintf(b, sizeof b, "0x%x.%x", v->u.pci.slot, v->u.pci.fn);
	else
		snprintf(b, sizeof b, "0x%x", v->u.pci.slot);
	opt_cstr(e, fl->key, b);
}

static void kv_hex16(struct emit *e, const struct field *fl, const struct qval *v)
{
	char b[32];
	snprintf(b, sizeof b, "0x%04llx", v->u.i);
	opt_cstr(e, fl->key, b);
}

static void kv_fd(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_fd(e, fl->key, v->u.fd);
}

static void kv_fds(struct emit *e, const struct field *fl, const struct qval *v)
{
	opt_fds(e, fl->key, v->u.fds.v, v->u.fds.n);
}

static void kv_props(struct emit *e, const struct field *fl, const struct qval *v)
{
	render_props(e, v->u.props.v, v->u.props.n);
}

/* As an option of its own (render_flag). */
static void arg_str(struct render *rc, const struct field *fl, const struct qval *v)
{
	emit_arg(rc->e, fl->flag, v->u.str.s, v->u.str.n);
}

static void arg_enum(struct render *rc, const struct field *fl, const struct qval *v)
{
	emit_arg(rc->e, fl->flag, fl->choices[v->u.i], strlen(fl->choices[v->u.i]));
}

/* A switch: the bare flag when true ("-nodefaults"), or "-flag key=on";
 * false says nothing (QEMU's default). */
static void arg_bool(struct render *rc, const struct field *fl, const struct qval *v)
{
	if (!v->u.i)
		return;
	if (!fl->key) {
		emit_flag(rc->e, fl->flag);
		return;
	}
	opt_begin(rc->e, fl->flag);
	opt_bool(rc->e, fl->key, 1);
	opt_end(rc->e);
}

/* One option per string; without a flag, verbatim words (extra_args). */
static void arg_strs(struct render *rc, const struct field *fl, const struct qval *v)
{
	for (int i = 0; i < v->u.strs.n; i++)
		if (fl->flag)
			emit_arg(rc->e, fl->flag, v->u.strs.v[i], v->u.strs.len[i]);
		else
			emit_wordn(rc->e, v->u.strs.v[i], v->u.strs.len[i]);
}

/* "-flag <head>,<keys of option 1>": the head is the kind's fixed word
 * (kind.device) or its F_HEAD field. */
static void render_section(struct render *rc, const char *flag, const struct rec *s)
{
	struct emit *e = rc->e;
	opt_begin(e, flag);
	if (s->k->device)
		opt_head(e, s->k->device, strlen(s->k->device));
	const struct field *fs = kind_fields(s->k);
	for (int f = 0; f < s->k->nfields; f++) {
		if (!(fs[f].flags & F_HEAD) || !s->v[f].set)
			continue;
		if (fs[f].type == T_UINT) {
			char b[32], *p = val_digits(b, (unsigned long long)s->v[f].u.i);  /* T_UINT: >= 0 */
			opt_head(e, p, (size_t)(b + sizeof b - p));
		} else {
			opt_head(e, s->v[f].u.str.s, s->v[f].u.str.n);
		}
	}
	render_fields(e, s, 1);
	opt_end(e);
}

/* A section with a flag is one option; without, its fields are options of
 * their own (kernel: -kernel, -initrd, -append). */
static void arg_rec(struct render *rc, const struct field *fl, const struct qval *v)
{
	const struct rec *s = v->u.rec;
	if (fl->flag) {
		render_section(rc, fl->flag, s);
		return;
	}
	const struct field *fs = kind_fields(s->k);
	for (int f = 0; f < s->k->nfields; f++)
		if (fs[f].flag)
			render_flag(rc, s, f);
}

static void arg_recs(struct render *rc, const struct field *fl, const struct qval *v)
{
	for (int i = 0; i < v->u.recs.n; i++)
		render_section(rc, fl->flag, v->u.recs.v[i]);
}

/* Each device by its kind's hook, traced as devices[i]. */
static void arg_devs(struct render *rc, const struct field *fl, const struct qval *v)
{
	for (int i = 0; i < v->u.recs.n; i++) {
		const struct rec *d = v->u.recs.v[i];
		rc->e->trace_dev = i + 1;
		if (d->k->render)
			d->k->render(rc, d);
		else
			render_device(rc, d);
		rc->e->trace_dev = 0;
	}
}

/* Per field type: how a value is written as key=value in an option (kv),
 * and as options of its own (arg).  NULL: the type has no such form, and
 * the kind's hook writes it.  (The type's other columns, its check and
 * read-back as Lua, are types.c's table.) */
static const struct {
	void (*kv)(struct emit *e, const struct field *fl, const struct qval *v);
	void (*arg)(struct render *rc, const struct field *fl, const struct qval *v);
} types[T_NTYPES] = {
	[T_STR] = { kv_str, arg_str },     [T_NAME] = { kv_str, arg_str },   [T_ID] = { kv_str, arg_str },
	[T_REF] = { kv_str, arg_str },     [T_PATH] = { kv_str, arg_str },   [T_MAC] = { kv_str, arg_str },
	[T_UUID] = { kv_str, arg_str },    [T_BDF] = { kv_str, arg_str },    [T_RTCBASE] = { kv_str, arg_str },
	[T_DEVNO] = { kv_str, arg_str },   [T_FILE] = { kv_file, NULL },     [T_ENUM] = { kv_enum, arg_enum },
	[T_BOOL] = { kv_bool, arg_bool },  [T_UINT] = { kv_int, NULL },      [T_SIZE] = { kv_size, NULL },
	[T_PCIADDR] = { kv_pciaddr, NULL }, [T_HEX16] = { kv_hex16, NULL },  [T_FD] = { kv_fd, NULL },
	[T_FDS] = { kv_fds, NULL },        [T_PROPS] = { kv_props, NULL },   [T_STRS] = { NULL, arg_strs },
	[T_UINTS] = { NULL, NULL },        [T_REC] = { NULL, arg_rec },      [T_RECS] = { NULL, arg_recs },
	[T_DEVS] = { NULL, arg_devs },
	/* T_NUM, T_FUNC, T_TABLE, T_ANY: options tables' types (src/options.c), never rendered */
};

void render_field(struct emit *e, const struct rec *r, int f)
{
	const struct field *fl = &kind_fields(r->k)[f];
	const struct qval *v = &r->v[f];
	if (!v->set || (!fl->key && fl->type != T_PROPS) || !types[fl->type].kv)
		return;
	e->trace_field = fl->name;  /* for a traced build (qemu.check): the key's field */
	types[fl->type].kv(e, fl, v);
	e->trace_field = NULL;
}

void render_flag(struct render *rc, const struct rec *r, int f)
{
	const struct field *fl = &kind_fields(r->k)[f];
	if (r->v[f].set && types[fl->type].arg)
		types[fl->type].arg(rc, fl, &r->v[f]);
}

void render_fields(struct emit *e, const struct rec *r, int opt)
{
	const struct field *fs = kind_fields(r->k);
	for (int f = 0; f < r->k->nfields; f++)
		if (fs[f].opt == opt && r->v[f].set)  /* (most are unset: no call for them) */
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

/* ---- the VM around a device -------------------------------------------------- */

int render_transport(const struct render *rc, const struct rec *r)
{
	int t = rec_transport(r);
	return t >= 0 ? t : rc->transport;
}

const char *render_driver(const struct render *rc, const struct rec *r, size_t *n)
{
	int f = schema_cf(r->k, CF_DRIVER);
	if (f >= 0 && r->v[f].set && kind_fields(r->k)[f].type == T_NAME) {
		*n = r->v[f].u.str.n;
		return r->v[f].u.str.s;
	}
	const char *s = schema_transport_name(r, render_transport(rc, r));
	if (!s)
		s = "";  /* not reached: vm_rules.c refuses a transport without a name */
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

void render_virtio(const struct render *rc, const char *driver, size_t n)
{
	if (!rc->iommu_platform || !render_is_virtio(driver, n))
		return;
	if (render_needs_modern(driver, n))
		opt_bool(rc->e, "disable-legacy", 1);
	opt_bool(rc->e, "iommu_platform", 1);
}

void render_device(struct render *rc, const struct rec *r)
{
	size_t n;
	const char *drv = r->k->device;
	if (drv)
		n = strlen(drv);
	else
		drv = render_driver(rc, r, &n);
	opt_begin(rc->e, "-device");
	opt_head(rc->e, drv, n);
	render_fields(rc->e, r, 1);
	render_props(rc->e, r->props, r->nprops);
	if (!r->k->open)
		render_virtio(rc, drv, n);
	opt_end(rc->e);
}
