/* values.h - the shapes of scalar values QEMU takes, as plain C predicates
 * and parsers (no Lua: check.c turns a "no" into a message; fuzzers and
 * tests can call these directly).  Each returns 1 when s[0..n) is valid. */
#ifndef QLUA_VALUES_H
#define QLUA_VALUES_H

#include <stddef.h>

int val_name(const char *s, size_t n);      /* a driver, machine or CPU model name */
int val_id(const char *s, size_t n);        /* QEMU's id_wellformed() */
int val_propname(const char *s, size_t n);  /* a QEMU property name */
int val_size(const char *s, size_t n, unsigned long long *out);  /* "512", "64K", "2G" */
int val_mac(const char *s, size_t n);       /* 52:54:00:12:34:56 */
int val_uuid(const char *s, size_t n);      /* 8-4-4-4-12 hex */
int val_pci(const char *s, size_t n, int *slot, int *fn);  /* "1f", "0x3.2" (fn -1: none) */
int val_bdf(const char *s, size_t n);       /* [dddd:]bb:dd.f */
int val_hex16(const char *s, size_t n, unsigned long *out);  /* "0x8086", "8086" */
int val_rtcbase(const char *s, size_t n);   /* utc, localtime, 2006-06-17[T16:01:21] */
int val_devno(const char *s, size_t n);     /* ccw cssid.ssid.devno: fe.0.0001 */
/* Dotted-quad IPv4 "10.0.2.15" (host byte order in *out); a network
 * "10.0.2.0/24" (prefix 0..32; no host bits set). */
int val_ipv4(const char *s, size_t n, unsigned long *out);
int val_ipv4_net(const char *s, size_t n, unsigned long *addr, int *prefix);

/* v's decimal digits right-aligned in b[0..32), no NUL; returns where
 * they start (their length is b + 32 - the result).  The argv's numbers
 * are printed with it: snprintf was a tenth of the whole argv build. */
char *val_digits(char b[32], unsigned long long v);

#endif
