/* kvm.c - see kvm.h. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#if defined(__x86_64__) || defined(__i386__)
#include <linux/kvm.h>
#define PROBE_X86 1
#endif

static int read_only;

void kvm_cache_read_only(void)
{
	read_only = 1;
}

static const char *device(void)
{
	const char *d = getenv("QLUA_KVM_DEVICE");
	return d && *d ? d : "/dev/kvm";
}

/* ---- the probe, in a child -------------------------------------------------- */

#ifdef PROBE_X86
/* The child reports on a pipe, one line each: "at STEP" before each step
 * that could hang (so a timeout can say where), then "yes WHY" or "no WHY". */
static void say(int fd, const char *fmt, ...)
{
	char b[400];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof b - 2)
		n = sizeof b - 2;
	b[n++] = '\n';
	ssize_t w = write(fd, b, n);
	(void)w;
}

#define FAIL(...) do { say(out, "no " __VA_ARGS__); return; } while (0)
#define CALL(what, expr) do { say(out, "at %s", what); \
		if ((expr) < 0) FAIL("%s failed (%s)", what, strerror(errno)); } while (0)

static const char *exit_name(unsigned r)
{
	static const char *const names[] = {
		"KVM_EXIT_UNKNOWN", "KVM_EXIT_EXCEPTION", "KVM_EXIT_IO", "KVM_EXIT_HYPERCALL", "KVM_EXIT_DEBUG",
		"KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_IRQ_WINDOW_OPEN", "KVM_EXIT_SHUTDOWN",
		"KVM_EXIT_FAIL_ENTRY", "KVM_EXIT_INTR", "KVM_EXIT_SET_TPR", "KVM_EXIT_TPR_ACCESS",
		"KVM_EXIT_S390_SIEIC", "KVM_EXIT_S390_RESET", "KVM_EXIT_DCR", "KVM_EXIT_NMI",
		"KVM_EXIT_INTERNAL_ERROR",
	};
	return r < sizeof names / sizeof names[0] ? names[r] : "an exit reason qlua does not know";
}

static const char *suberror_name(unsigned s)
{
	switch (s) {
	case 1: return "emulation failure";
	case 2: return "simultaneous exceptions";
	case 3: return "failed event delivery";
	case 4: return "unexpected exit reason";
	default: return "unknown suberror";
	}
}

/* The guest, at 0x1000 in real mode: the answer must come back in ax. */
#define GUEST_ADDR 0x1000
#define GUEST_ANSWER 0x2468
static const unsigned char guest_code[] = {
	0xb8, 0x34, 0x12,  /* mov $0x1234, %ax */
	0x01, 0xc0,        /* add %ax, %ax */
	0xf4,              /* hlt */
};

static void probe(int kvm, const char *dev, int out)
{
	say(out, "at KVM_GET_API_VERSION");
	int v = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (v < 0)
		FAIL("%s is not KVM: KVM_GET_API_VERSION failed (%s)", dev, strerror(errno));
	if (v != KVM_API_VERSION)
		FAIL("%s speaks KVM API %d (qlua knows %d)", dev, v, KVM_API_VERSION);
	int vm;
	CALL("KVM_CREATE_VM", vm = ioctl(kvm, KVM_CREATE_VM, 0));
	/* As QEMU does on x86: where real mode's identity map and TSS go on
	 * CPUs without unrestricted guest, so that the probe fails only where
	 * QEMU would too. */
	uint64_t ident = 0xfeffc000;
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
		CALL("KVM_SET_IDENTITY_MAP_ADDR", ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident));
	CALL("KVM_SET_TSS_ADDR", ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)(ident + 0x1000)));

	unsigned char *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		FAIL("cannot map the test guest's memory (%s)", strerror(errno));
	memcpy(mem, guest_code, sizeof guest_code);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = GUEST_ADDR, .memory_size = 0x1000, .userspace_addr = (uintptr_t)mem,
	};
	CALL("KVM_SET_USER_MEMORY_REGION", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region));
	int cpu, size;
	CALL("KVM_CREATE_VCPU", cpu = ioctl(vm, KVM_CREATE_VCPU, 0));
	CALL("KVM_GET_VCPU_MMAP_SIZE", size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
	struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		FAIL("cannot map the vCPU's kvm_run (%s)", strerror(errno));

	/* real mode, code segment at 0, starting at the code */
	struct kvm_sregs sregs;
	CALL("KVM_GET_SREGS", ioctl(cpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	CALL("KVM_SET_SREGS", ioctl(cpu, KVM_SET_SREGS, &sregs));
	struct kvm_regs regs = { .rip = GUEST_ADDR, .rflags = 0x2 };
	CALL("KVM_SET_REGS", ioctl(cpu, KVM_SET_REGS, &regs));

	say(out, "at KVM_RUN");
	int r;
	while ((r = ioctl(cpu, KVM_RUN, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		FAIL("KVM_RUN failed (%s)", strerror(errno));
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		FAIL("KVM_RUN stopped with KVM_EXIT_INTERNAL_ERROR (%s)", suberror_name(run->internal.suberror));
	case KVM_EXIT_FAIL_ENTRY:
		FAIL("KVM_RUN could not enter the guest (KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx)",
		     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		FAIL("KVM_RUN stopped with %s (%u), not at the test code's hlt", exit_name(run->exit_reason),
		     run->exit_reason);
	}
	CALL("KVM_GET_REGS", ioctl(cpu, KVM_GET_REGS, &regs));
	if ((regs.rax & 0xffff) != GUEST_ANSWER)
		FAIL("KVM_RUN halted with ax = 0x%llx, not 0x%x (the test code did not run as written)",
		     (unsigned long long)(regs.rax & 0xffff), GUEST_ANSWER);
	say(out, "yes a test vCPU ran to hlt under KVM_RUN");
}
#endif

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The last line of buf that starts with prefix, its rest copied to dst. */
static int last_line(const char *buf, const char *prefix, char *dst, size_t n)
{
	size_t pl = strlen(prefix);
	int found = 0;
	for (const char *l = buf; *l; ) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		if (len >= pl && !memcmp(l, prefix, pl)) {
			snprintf(dst, n, "%.*s", (int)(len - pl), l + pl);
			found = 1;
		}
		l += len + (e != NULL);
	}
	return found;
}

#ifdef PROBE_X86
/* In the child: closes every descriptor above 2 but a and b, so the probe
 * does not hold the parent's sockets and pipes open (a VM's QMP channel
 * would not see its end) while it runs.  Best effort: without close_range
 * (Linux < 5.9) they stay open for the probe's two seconds at most. */
static void keep_only(int a, int b)
{
#ifdef SYS_close_range
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	unsigned ranges[3][2] = { { 3, a - 1 }, { a + 1, b - 1 }, { b + 1, ~0U } };
	for (int i = 0; i < 3; i++)
		if (ranges[i][0] <= ranges[i][1])
			syscall(SYS_close_range, ranges[i][0], ranges[i][1], 0);
#else
	(void)a;
	(void)b;
#endif
}
#endif

/* Runs the probe on the open device in a child killed after the timeout:
 * a hang in KVM_RUN is a verdict, not a hang of qlua. */
static int run_probe(int kvm, const char *dev, char *reason, size_t n)
{
#ifndef PROBE_X86
	(void)kvm;
	snprintf(reason, n, "qlua's KVM probe runs x86 guest code, and this is not an x86 host");
	return 0;
#else
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(reason, n, "cannot run the KVM probe (pipe: %s)", strerror(errno));
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(reason, n, "cannot run the KVM probe (fork: %s)", strerror(errno));
		close(p[0]);
		close(p[1]);
		return 0;
	}
	if (pid == 0) {
		/* only this probe: the parent's handlers and signal mask are not ours */
		static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE };
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		keep_only(kvm, p[1]);
		probe(kvm, dev, p[1]);
		_exit(0);
	}
	close(p[1]);
	char buf[2048];
	size_t len = 0;
	int timed_out = 0;
	double deadline = now() + KVM_PROBE_TIMEOUT;
	for (;;) {
		double left = deadline - now();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;  /* the deadline check ends it */
		ssize_t got = read(p[0], buf + len, sizeof buf - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (len += got) == sizeof buf - 1)
			break;
	}
	buf[len] = '\0';
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int st = 0, reaped = 0;
	/* SIGKILL ends even a vCPU stuck in KVM_RUN; still, bounded */
	for (double end = now() + 5; !reaped && now() < end; ) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			reaped = 1;
		else
			usleep(2000);
	}

	char step[64] = "the probe";
	last_line(buf, "at ", step, sizeof step);
	if (last_line(buf, "yes ", reason, n))
		return 1;
	if (last_line(buf, "no ", reason, n))
		return 0;
	if (timed_out)
		snprintf(reason, n, "%s did not return within %d s", step, KVM_PROBE_TIMEOUT);
	else if (reaped && WIFSIGNALED(st))
		snprintf(reason, n, "the KVM probe died of signal %d in %s", WTERMSIG(st), step);
	else
		snprintf(reason, n, "the KVM probe ended without a verdict, in %s", step);
	return 0;
#endif
}

/* ---- the cache -------------------------------------------------------------- */

/* The cache file's path, and its directory's (with the parent that may
 * need making too: ~/.cache); 0 when there is nowhere to keep it. */
static int cache_path(char *path, size_t n, char *dir, char *parent)
{
	const char *run = getenv("XDG_RUNTIME_DIR"), *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int w;
	if (run && run[0] == '/') {
		snprintf(parent, n, "%s", run);
		w = snprintf(dir, n, "%s/qlua", run);
	} else if (cache && cache[0] == '/') {
		snprintf(parent, n, "%s", cache);
		w = snprintf(dir, n, "%s/qlua", cache);
	} else if (home && home[0] == '/') {
		snprintf(parent, n, "%s/.cache", home);
		w = snprintf(dir, n, "%s/.cache/qlua", home);
	} else {
		return 0;
	}
	return w > 0 && (size_t)w + 10 < n && snprintf(path, n, "%s/kvm.json", dir) > 0;
}

static int boot_id(char *id, size_t n)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return 0;
	int ok = fgets(id, (int)n, f) != NULL;
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	return ok && *id;
}

static int cache_read(const char *path, const char *boot, const char *dev, unsigned long long rdev,
                      char *reason, size_t n, int *usable)
{
	json_t *j = json_load_file(path, 0, NULL);
	if (!j)
		return 0;
	json_t *b = json_object_get(j, "boot_id"), *d = json_object_get(j, "device"), *r = json_object_get(j, "rdev"),
	       *u = json_object_get(j, "usable"), *why = json_object_get(j, "reason");
	int hit = json_is_string(b) && !strcmp(json_string_value(b), boot) && json_is_string(d) &&
	          !strcmp(json_string_value(d), dev) && json_is_integer(r) &&
	          (unsigned long long)json_integer_value(r) == rdev && json_is_boolean(u) && json_is_string(why);
	if (hit) {
		*usable = json_is_true(u);
		snprintf(reason, n, "%.300s (verdict cached in %.250s)", json_string_value(why), path);
	}
	json_decref(j);
	return hit;
}

/* Written whole to a temporary file and renamed: a reader never sees half
 * of it.  Failing to keep it only costs a probe next time. */
static void cache_write(const char *path, const char *dir, const char *parent, const char *boot,
                        const char *dev, unsigned long long rdev, int usable, const char *reason)
{
	mkdir(parent, 0700);
	mkdir(dir, 0700);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:s}", "boot_id", boot, "device", dev, "rdev", (json_int_t)rdev,
	                      "usable", usable, "reason", reason);
	int ok = j && json_dumpfd(j, fd, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0 && write(fd, "\n", 1) == 1;
	json_decref(j);
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

/* ---- the verdict ------------------------------------------------------------ */

static struct {
	int valid, usable;
	char dev[256];
	unsigned long long rdev;
	char reason[600];
} memo;

int kvm_usable(char *reason, size_t n)
{
	const char *dev = device();
	int kvm = open(dev, O_RDWR | O_CLOEXEC);
	struct stat st;
	if (kvm < 0 || fstat(kvm, &st) < 0) {
		snprintf(reason, n, "cannot open %s (%s)", dev, strerror(errno));
		if (kvm >= 0)
			close(kvm);
		return 0;
	}
	unsigned long long rdev = st.st_rdev;
	if (memo.valid && memo.rdev == rdev && !strcmp(memo.dev, dev)) {
		close(kvm);
		snprintf(reason, n, "%s", memo.reason);
		return memo.usable;
	}

	char path[4096], dir[4096], parent[4096], boot[64];
	int have_boot = boot_id(boot, sizeof boot);
	int have_path = have_boot && cache_path(path, sizeof path, dir, parent);
	int usable;
	char why[600];
	if (!have_path || !cache_read(path, boot, dev, rdev, why, sizeof why, &usable)) {
		usable = run_probe(kvm, dev, why, sizeof why);
		if (have_path && !read_only)
			cache_write(path, dir, parent, boot, dev, rdev, usable, why);
	}
	close(kvm);
	memo.valid = 1;
	memo.usable = usable;
	memo.rdev = rdev;
	snprintf(memo.dev, sizeof memo.dev, "%s", dev);
	snprintf(memo.reason, sizeof memo.reason, "%s", why);
	snprintf(reason, n, "%s", why);
	return usable;
}
