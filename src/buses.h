/* buses.h - the buses a machine type has before any device is added: what
 * a device's bus= may name besides the buses of the description's own
 * bridges, ports and controllers (check.c's check_vm). */
#ifndef QLUA_BUSES_H
#define QLUA_BUSES_H

#include "schema.h"

#define MACHINE_BUSES_MAX 40

/* Fills v (MACHINE_BUSES_MAX entries) with the buses machine type `type`
 * has with the machine options opts[0..nopts) and returns how many, or -1
 * when qlua does not know the type: NULL (QEMU's default machine depends on
 * the binary) or a type of another family or architecture. */
int machine_buses(const char *type, const struct prop *opts, int nopts, const char **v);

#endif
