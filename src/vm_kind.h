/* vm_kind.h - the VM description, a kind like the devices: the indexes of
 * its fields and of its sections' fields, shared by the files it is made of:
 *
 *   vm_kind.c      the VM's own fields, its command line as rows in QEMU's
 *                  order (flags as data, hooks where the shape is irregular),
 *                  its whole-record check, and who QEMU runs as (vm_ids)
 *   vm_sections.c  the sections as data (machine, smp, knobs, boot, ...) with
 *                  the rules inside each one
 *   vm_memory.c    guest RAM: memory, NUMA, their backends and their rules
 *   vm_firmware.c  firmware = 'uefi': OVMF's images and the VM's own variables
 *   vm_hooks.c     the options whose shape is irregular (-name, -machine,
 *                  -accel, -cpu, qmp's chardev and monitor, pflash, -incoming),
 *                  and the prepare steps, which are not options
 *   vm_rules.c     rules across the description: devices against each other
 *                  (by groups of kinds) and against the sections
 *
 * Field enums follow each table's order, which is describe()'s order. */
#ifndef QLUA_VM_KIND_H
#define QLUA_VM_KIND_H

#include "check.h"
#include "render.h"
#include "schema.h"

enum { MA_TYPE, MA_ACCEL, MA_OPTIONS };
enum { ME_SIZE, ME_SLOTS, ME_MAXMEM, ME_PATH };
enum { SM_CPUS, SM_CORES, SM_THREADS, SM_SOCKETS, SM_MAXCPUS };
enum { KE_PATH, KE_INITRD, KE_PARAMS };
enum { RT_BASE, RT_DRIFTFIX, RT_CLOCK };
enum { QM_PATH, QM_FD, QM_SERVER, QM_WAIT, QM_PROTOCOL };
enum { KN_NO_USER_CONFIG, KN_NO_DEFAULTS, KN_NO_GRAPHIC, KN_DAEMONIZE, KN_HUGEPAGES,
       KN_MEM_PREALLOC, KN_FILE_BACKED_MEM, KN_MEM_SHARED, KN_MLOCK, KN_REALTIME, KN_STOPPED,
       KN_NO_REBOOT, KN_NO_SHUTDOWN, KN_IOMMU_PLATFORM, KN_SNAPSHOT };
enum { BO_ORDER, BO_ONCE, BO_MENU, BO_STRICT };
enum { SMB_TYPE, SMB_VENDOR, SMB_MANUFACTURER, SMB_PRODUCT, SMB_VERSION, SMB_SERIAL, SMB_UUID, SMB_SKU,
       SMB_FAMILY, SMB_ASSET, SMB_LOCATION, SMB_DATE, SMB_RELEASE, SMB_UEFI, SMB_SOCK_PFX, SMB_LOC_PFX, SMB_BANK,
       SMB_PART, SMB_SPEED, SMB_VALUE, SMB_PATH };
enum { IT_ID };
enum { IN_TYPE, IN_FD, IN_EXEC };
enum { FW_NAME, FW_FILE, FW_STRING };
enum { SB_OBSOLETE, SB_ELEVATEPRIVILEGES, SB_SPAWN, SB_RESOURCECONTROL };
enum { NN_NODE_ID, NN_CPUS, NN_MEM_SIZE, NN_HOST_NODES, NN_POLICY, NN_MEM_BACKEND_TYPE, NN_MEM_BACKEND_PATH };
enum { ND_SRC, ND_DST, ND_VAL };
enum { NU_NODES, NU_DISTS };
enum { PR_ARGV, PR_REMOVE };
enum { SS_USER, SS_KEY, SS_GUEST_PORT };
enum { VM_PATH, VM_NAME, VM_UUID, VM_MACHINE, VM_CPU_MODEL, VM_CPU_FEATURES, VM_QMP, VM_MEMORY,
       VM_SMP, VM_DEVICES, VM_RTC, VM_GLOBAL, VM_VGA, VM_KERNEL, VM_BIOS, VM_KNOBS, VM_PFLASH,
       VM_FIRMWARE, VM_IOTHREADS, VM_INCOMING, VM_PIDFILE, VM_FW_CFG, VM_SANDBOX, VM_NUMA, VM_UID, VM_GID,
       VM_GROUPS, VM_DEBUG, VM_LOG_FILE, VM_BOOT, VM_SMBIOS, VM_EXTRA_ARGS, VM_PREPARE, VM_SSH };

/* The sections (vm_sections.c, vm_memory.c). */
extern const struct kind sec_machine, sec_memory, sec_smp, sec_kernel, sec_rtc, sec_qmp, sec_knobs,
	sec_boot, sec_smbios, sec_iothread, sec_incoming, sec_fw_cfg, sec_sandbox, sec_numa, sec_prepare,
	sec_ssh, sec_numa_node, sec_numa_dist;

/* Section f of the VM when given, else NULL. */
static inline const struct rec *vm_sec(const struct rec *vm, int f)
{
	return vm->v[f].set ? vm->v[f].u.rec : NULL;
}

/* Is knob k (KN_*) set to true? */
static inline int vm_knob_on(const struct rec *vm, int k)
{
	const struct rec *kn = vm_sec(vm, VM_KNOBS);
	return kn && kn->v[k].set && kn->v[k].u.i;
}

/* vm_kind.c: is machine option `key` given / on (true, or "on")?  The
 * transport the machine gives virtio devices, and why (see vm_transport). */
int vm_machine_option_set(const struct rec *ma, const char *key);
int vm_machine_option_on(const struct rec *ma, const char *key);
int vm_machine_transport(const struct rec *vm, char *why, size_t n);

/* vm_memory.c */
/* "2G", "512M", "1536K", or bytes: the exact value in the largest unit. */
void vm_size_text(unsigned long long v, char *b, size_t n);
/* Does guest RAM need a backend object (-machine memory-backend=qlua-mem)? */
int vm_memory_backend(const struct rec *vm);
void vm_check_memory_knobs(struct ck *c, const struct rec *vm);
void vm_check_numa(struct ck *c, const struct rec *vm);
void vm_render_memory(struct render *rc, const struct rec *vm);
void vm_render_numa(struct render *rc, const struct rec *vm);

/* vm_firmware.c */
void vm_check_firmware(struct ck *c, const struct rec *vm);
void vm_render_firmware(struct render *rc, const struct rec *vm);

/* vm_hooks.c */
void vm_render_name(struct render *rc, const struct rec *vm);
void vm_render_machine(struct render *rc, const struct rec *vm);
void vm_render_accel(struct render *rc, const struct rec *vm);
void vm_render_cpu(struct render *rc, const struct rec *vm);
void vm_render_qmp(struct render *rc, const struct rec *vm);
void vm_render_pflash(struct render *rc, const struct rec *vm);
void vm_render_incoming(struct render *rc, const struct rec *vm);
void vm_render_prepare(struct render *rc, const struct rec *vm);

/* vm_rules.c */
void vm_check_devices(struct ck *c, const struct rec *vm);
void vm_check_sandbox(struct ck *c, const struct rec *vm);

/* Who QEMU runs as: the checked description's uid, gid and groups, each
 * set in *ids only when given (the rest left unset).  Not part of the
 * command line: the build hands them to the spawner beside it (lbuild.h). */
struct spawn_ids;
void vm_ids(const struct rec *vm, struct spawn_ids *ids);

/* The QEMU binary a description without `path` runs: $QLUA_QEMU, else
 * qemu-system-<this machine's arch> (vm_kind.c). */
const char *qlua_default_qemu(void);

#endif
