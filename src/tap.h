/* tap.h - opening TAP queues for QEMU's -netdev tap,fds=...  Plain C. */
#ifndef QLUA_TAP_H
#define QLUA_TAP_H

#include <stddef.h>

#define TAP_MAX_QUEUES 256   /* the kernel's MAX_TAP_QUEUES */

/* Opens queues descriptors (1..TAP_MAX_QUEUES) on the TAP interface ifname,
 * each /dev/net/tun opened O_CLOEXEC and attached with TUNSETIFF
 * (IFF_TAP | IFF_NO_PI, | IFF_VNET_HDR when vnet_hdr, | IFF_MULTI_QUEUE when
 * queues > 1).  The interface is created when it does not exist (this needs
 * CAP_NET_ADMIN); a name with "%d" is resolved by the kernel on the first
 * queue and the others attach to the resolved name.  Returns 0 and fills
 * out_fds[0..queues-1]; otherwise returns an errno value, writes a message
 * into err and leaves nothing open. */
int tap_open_queues(const char *ifname, int queues, int vnet_hdr, int *out_fds,
                    char *err, size_t errlen);

/* 0 when ifname is a name the kernel accepts (1 to 15 bytes, no '/', ':',
 * white space, not "." or ".."); otherwise EINVAL and a message. */
int tap_check_name(const char *ifname, char *err, size_t errlen);

/* The interface name a TAP descriptor is attached to (TUNGETIFF); 0 or an
 * errno value.  len should be at least IFNAMSIZ (16). */
int tap_name(int fd, char *name, size_t len);

#endif
