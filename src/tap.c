/* tap.c - see tap.h. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

/* Undoes the queues opened so far: a half-opened set is useless to QEMU. */
static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
}

/* The kernel's dev_valid_name, so a bad name gets a message of its own
 * instead of TUNSETIFF's bare EINVAL. */
int tap_check_name(const char *ifname, char *err, size_t errlen)
{
	size_t len = strlen(ifname);

	if (len == 0) {
		snprintf(err, errlen, "interface name is empty");
		return EINVAL;
	}
	if (len >= IFNAMSIZ) {
		snprintf(err, errlen, "interface name '%s' is too long (at most %d bytes)",
		         ifname, IFNAMSIZ - 1);
		return EINVAL;
	}
	if (strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0 ||
	    strpbrk(ifname, "/: \t\n\v\f\r")) {
		snprintf(err, errlen, "invalid interface name '%s' (no '/', ':', white space, '.' or '..')",
		         ifname);
		return EINVAL;
	}
	return 0;
}

int tap_open_queues(const char *ifname, int queues, int vnet_hdr, int *out_fds,
                    char *err, size_t errlen)
{
	struct ifreq ifr;
	char name[IFNAMSIZ];
	int e = tap_check_name(ifname, err, errlen);

	if (e)
		return e;
	if (queues < 1 || queues > TAP_MAX_QUEUES) {
		snprintf(err, errlen, "queue count %d out of range (expected 1 to %d)",
		         queues, TAP_MAX_QUEUES);
		return EINVAL;
	}
	memcpy(name, ifname, strlen(ifname) + 1);

	for (int i = 0; i < queues; i++) {
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			close_all(out_fds, i);
			snprintf(err, errlen, "cannot open '/dev/net/tun' for tap '%s' queue %d: %s",
			         ifname, i + 1, strerror(e));
			return e;
		}
		memset(&ifr, 0, sizeof ifr);
		memcpy(ifr.ifr_name, name, strlen(name) + 1);
		/* QEMU's tap backend reads bare frames: no packet-info header. */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (vnet_hdr)
			ifr.ifr_flags |= IFF_VNET_HDR;
		/* Only when asked: the flag must match how an existing tap was
		 * created, and one queue is how most taps are made. */
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			e = errno;
			close(fd);
			close_all(out_fds, i);
			/* With a valid name, EINVAL means the interface exists and is
			 * another kind of device or has the other multi-queue setting;
			 * strerror alone would not say so. */
			const char *hint = "";
			if (e == EINVAL && if_nametoindex(name) != 0)
				hint = queues > 1 ? " (it exists but is not a multi-queue tap)"
				                  : " (it exists but is not a single-queue tap)";
			snprintf(err, errlen, "cannot open tap '%s' queue %d: %s%s",
			         ifname, i + 1, strerror(e), hint);
			return e;
		}
		out_fds[i] = fd;
		/* "tap%d" names a new interface per call: the next queues must
		 * attach to the one the first call created. */
		memcpy(name, ifr.ifr_name, IFNAMSIZ);
		name[IFNAMSIZ - 1] = '\0';
	}
	return 0;
}

/* Used after a "%d" name, so messages and --json show the real one. */
int tap_name(int fd, char *name, size_t len)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno;
	snprintf(name, len, "%.*s", IFNAMSIZ - 1, ifr.ifr_name);
	return 0;
}
