/* kvm.h - is KVM usable on this host?  Plain C, no Lua.
 *
 * A /dev/kvm that opens read-write is no proof: some hosts have one that
 * answers KVM_CREATE_VM and QMP's query-kvm (present, enabled) and still
 * cannot run a guest ("KVM internal error ... emulation failure", or a
 * silent hang).  So the probe runs a vCPU for real: a few bytes of
 * real-mode code that end in hlt, in a forked child that is killed after
 * KVM_PROBE_TIMEOUT seconds; KVM_RUN must stop with KVM_EXIT_HLT and the
 * code's result in ax.
 *
 * The device is $QLUA_KVM_DEVICE, else /dev/kvm.  A device that does not
 * open is a verdict at once.  A probe's verdict is cached for this boot:
 * one JSON file, $XDG_RUNTIME_DIR/qlua/kvm.json (else
 * $XDG_CACHE_HOME/qlua/kvm.json, else ~/.cache/qlua/kvm.json), keyed by
 * /proc/sys/kernel/random/boot_id, the device's path and its device
 * number; within one process the verdict is kept in memory too. */
#ifndef QLUA_KVM_H
#define QLUA_KVM_H

#include <stddef.h>

#define KVM_PROBE_TIMEOUT 2  /* seconds for the whole probe */

/* 1 when KVM runs guests here, else 0; reason gets why, in words for a
 * note ("a test vCPU ran to hlt under KVM_RUN", "cannot open /dev/kvm (No
 * such file or directory)"), with " (verdict cached in PATH)" when it came
 * from the cache. */
int kvm_usable(char *reason, size_t n);

/* Dry runs (qlua -n, --json, --check; --probe too) create no file: after this call the
 * cache is read but never written. */
void kvm_cache_read_only(void);

#endif
