/* render.h - a checked description to QEMU options.  Plain C: it reads
 * checked records only and writes through the one emitter (emit.h).
 * render.c: how each field type is written, and what a hook may ask of the
 * VM around it; render_runtime.c: what qlua adds at launch; the VM's own
 * options in order: vm_kind.c. */
#ifndef QLUA_RENDER_H
#define QLUA_RENDER_H

#include "emit.h"
#include "schema.h"

/* What qlua itself adds to a command line it launches (qemu.launch), before
 * the description's extra_args: a private QMP channel and the console. */
struct runtime {
	struct qfd *qmp;           /* child end of the private QMP socketpair, or NULL */
	struct qfd *console;       /* child end of the captured console, or NULL */
	struct qfd *agent;         /* child end of the guest agent's channel, or NULL */
	const char *console_file;  /* the console into this file, or NULL */
	const char *serial;        /* "stdio": the console on the terminal and no window
	                              (qlua vm.lua); "none": no serial; or NULL */
};

/* The console option of qemu.argv (launch 0) and qemu.launch/run (launch
 * 1: "capture" too), v[0..n): NULL when it is "stdio", "none", ("capture")
 * or "file:PATH", else what is wrong, in the words of field errors, with
 * *choice set when it is a plain word that is none of those (the caller
 * may show it).  The length matters: a NUL would cut the path, a line
 * break ends QEMU's. */
const char *runtime_console_problem(const char *v, size_t n, int launch, int *choice);

/* The foreground's console (runtime serial "stdio", qlua vm.lua) is the
 * guest's first serial port (ttyS0) on QEMU's stdio, unless the description
 * connects that port itself: render_serial_taken says how it does (a
 * legacy_serial device, an isa-serial device on port 0, -serial in
 * extra_args, or a chardev of its own on QEMU's stdio, which QEMU gives one
 * chardev only), else NULL.  render_console_on_stdio: does the terminal get
 * the console (or -nographic's monitor) there? */
const char *render_serial_taken(const struct rec *vm);
int render_console_on_stdio(const struct rec *vm);

/* What a kind's hook renders with: the emitter, and the VM around the
 * record.  render_vm makes one and passes it down (no hidden state): a
 * device asks it for the VM's knobs, buses and transport. */
struct render {
	struct emit *e;
	const struct rec *vm;
	int transport;             /* the machine's transport for virtio devices (vm_transport) */
	unsigned char iommu_platform;  /* knobs.iommu_platform (render_virtio) */
};

/* What qlua adds after the description's options (render_runtime.c). */
void render_runtime(struct render *rc, const struct runtime *rt);
/* Renders the whole VM record (path first) into e; rt may be NULL
 * (vm_kind.c, which makes the context). */
void render_vm(struct emit *e, const struct rec *vm, const char *path, const struct runtime *rt);
/* The VM's tail (vm_kind.c): credentials, prepare steps, extra_args (always last). */
void render_vm_tail(struct render *rc, const struct rec *vm);
/* The transport (enum transport) device d gets in the VM (vm_kind.c): its
 * `transport` when given, else the machine's: mmio for machine type
 * microvm (pci with machine.options.pcie = on), ccw for s390-ccw-virtio
 * machines and for a qemu-system-s390x binary (the description's path, or
 * the default one), else pci.  why (may be NULL) gets where the choice
 * came from, for messages: "machine type 'microvm'". */
int vm_transport(const struct rec *vm, const struct rec *d, char *why, size_t n);
/* Device d's own `transport` field (enum transport) when given, else -1. */
int rec_transport(const struct rec *d);
/* The device of vm that declares bus (a bridge's id, a controller's
 * '<id>.0'), NULL if none does; render_bus_device asks the VM being
 * rendered. */
const struct rec *vm_bus_device(const struct rec *vm, const char *bus, size_t n);
const struct rec *render_bus_device(const struct render *rc, const char *bus, size_t n);

/* For kind hooks: key=value for field f when it is set and has a key (how
 * each type is written: render.c's table). */
void render_field(struct emit *e, const struct rec *r, int f);
/* Every set field whose .opt is opt (1 = a kind's first option, 2 = its second). */
void render_fields(struct emit *e, const struct rec *r, int opt);
void render_props(struct emit *e, const struct prop *p, int n);
/* Field f as options of its own, by its type and `.flag` when set: "-uuid
 * <value>", "-global <each>", a true boolean's bare "-nodefaults" (or
 * "-overcommit <key>=on"), a section as "-rtc <head>,<its keys>" (one per
 * item of a list), a section without a flag as its fields' own flags
 * (kernel), the devices by their kinds' hooks, a list without a flag as
 * verbatim words (extra_args). */
void render_flag(struct render *rc, const struct rec *r, int f);
/* A device kind without a hook is one -device, the shape most devices
 * have: "-device <model>,<fields of option 1>,<free properties>,<virtio
 * extras>".  The model is kind.device, else the `driver` given or the
 * kind's device on its transport (render_driver); an open kind
 * (qemu.device{}) is passed as given, without virtio extras. */
void render_device(struct render *rc, const struct rec *r);

/* Is knob k (an index in the knobs section: vm_kind.h's KN_*) set in the
 * VM being rendered (vm_kind.c)?  For device hooks whose output depends on a VM-wide
 * knob. */
int render_knob(const struct render *rc, int k);
/* Is driver a virtio device (virtio-*, vhost-*)?  Does knobs.iommu_platform
 * need disable-legacy=on with it (a transitional virtio-pci device)? */
int render_is_virtio(const char *driver, size_t n);
int render_needs_modern(const char *driver, size_t n);
/* knobs.iommu_platform, on a virtio device: iommu_platform=on, with
 * disable-legacy=on where QEMU needs the device modern-only for it. */
void render_virtio(const struct render *rc, const char *driver, size_t n);

/* For hooks of kinds with transports: the device name to render, its
 * `driver` when set, else the kind's name on the device's transport in the
 * VM being rendered (checked to exist: see vm_rules.c). */
const char *render_driver(const struct render *rc, const struct rec *r, size_t *n);
int render_transport(const struct render *rc, const struct rec *r);

/* Accessors for hooks. */
static inline int has(const struct rec *r, int f) { return r->v[f].set != 0; }
static inline const char *sval(const struct rec *r, int f) { return r->v[f].u.str.s; }
static inline size_t slen(const struct rec *r, int f) { return r->v[f].u.str.n; }
static inline long long ival(const struct rec *r, int f) { return r->v[f].u.i; }
static inline const char *eval(const struct rec *r, int f) { return kind_fields(r->k)[f].choices[r->v[f].u.i]; }
/* (s is a literal: its first byte is known when this is compiled, and
 * most choices differ from it there, with no call to strcmp.) */
static inline int eis(const struct rec *r, int f, const char *s)
{
	if (!r->v[f].set)
		return 0;
	const char *v = eval(r, f);
	return v[0] == s[0] && !__builtin_strcmp(v, s);
}

#endif
