/* vm_memory.c - guest RAM: the memory and numa sections (vm_kind.h), the
 * rules between them and the knobs, and their options: -m, the RAM's
 * backend object when the knobs or a path need one, and -numa with a
 * backend per node that has memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "values.h"
#include "vm_kind.h"

/* ---- memory ------------------------------------------------------------------- */

static const struct field memory_fields[] = {
	[ME_SIZE] = { .name = "size", .type = T_SIZE, .flags = F_REQ, .doc = "guest RAM" },
	[ME_SLOTS] = { .name = "slots", .type = T_UINT, .min = 1, .max = 255,
	               .doc = "hot-plug memory slots (needs maxmem)" },
	[ME_MAXMEM] = { .name = "maxmem", .type = T_SIZE, .doc = "RAM limit including hot-plugged memory" },
	[ME_PATH] = { .name = "path", .type = T_PATH, .doc = "back guest RAM with a file here" },
};

static void memory_check(struct ck *c, const struct rec *r)
{
	unsigned long long size = r->v[ME_SIZE].u.size;
	if (size < (1ULL << 20))
		ck_fail(c, "size", "guest RAM below 1M (a plain number is bytes: write '%lluM' for megabytes)", size);
	if (has(r, ME_MAXMEM) && r->v[ME_MAXMEM].u.size < size)
		ck_fail(c, "maxmem", "smaller than 'size'");
	if (has(r, ME_SLOTS) != has(r, ME_MAXMEM))
		ck_fail(c, has(r, ME_SLOTS) ? "slots" : "maxmem", "QEMU needs 'slots' and 'maxmem' together");
}

const struct kind sec_memory = {
	.name = "memory", FIELDS(memory_fields),
	.doc = "guest memory", .check = memory_check,
};

/* ---- numa ------------------------------------------------------------------------------ */

static const struct field numa_node_fields[] = {
	[NN_NODE_ID] = { .name = "node_id", .type = T_UINT, .flags = F_REQ, .max = 127,
	                 .doc = "guest node number; the nodes are numbered 0..N-1" },
	[NN_CPUS] = { .name = "cpus", .type = T_STRS,
	              .doc = "vCPU indexes of the node: '0-3', '0-1,4' or a list of such" },
	[NN_MEM_SIZE] = { .name = "mem_size", .type = T_SIZE,
	                  .doc = "guest RAM on the node (the nodes' sizes add up to memory.size)" },
	[NN_HOST_NODES] = { .name = "host_nodes", .type = T_UINTS, .max = 127,
	                    .doc = "host NUMA nodes the node's RAM comes from (the backend is then JSON)" },
	[NN_POLICY] = { .name = "policy", .type = T_ENUM, .choices = CHOICES("bind", "preferred", "interleave"),
	                .doc = "how host_nodes are used (default 'bind')" },
	[NN_MEM_BACKEND_TYPE] = { .name = "mem_backend_type", .type = T_ENUM,
	                          .choices = CHOICES("memory-backend-ram", "memory-backend-file", "memory-backend-memfd"),
	                          .doc = "the node's memory backend (default from the knobs: file with "
	                                 "hugepages or a path, memfd with mem_shared, else ram)" },
	[NN_MEM_BACKEND_PATH] = { .name = "mem_backend_path", .type = T_PATH,
	                          .doc = "directory or file backing the node's RAM (memory-backend-file)" },
};

/* "0-3,5": each part a CPU index or a range; calls f(first, last) per part.
 * Returns 0 and sets *bad to the part when one is malformed. */
static int cpu_parts(const char *s, size_t n, const char **bad, size_t *badn,
                     void (*f)(void *, long, long), void *arg)
{
	const char *end = s + n;
	while (s <= end) {
		const char *comma = memchr(s, ',', end - s);
		const char *pe = comma ? comma : end;
		char *q;
		long a = -1, b = -1;
		if (s < pe && *s >= '0' && *s <= '9') {
			a = strtol(s, &q, 10);
			b = a;
			if (q < pe && *q == '-' && q + 1 < pe && q[1] >= '0' && q[1] <= '9')
				b = strtol(q + 1, &q, 10);
			if (q != pe || a > b || b > 4095)
				a = -1;
		}
		if (a < 0) {
			*bad = s;
			*badn = pe - s;
			return 0;
		}
		if (f)
			f(arg, a, b);
		s = pe + 1;
	}
	return 1;
}

static void numa_node_check(struct ck *c, const struct rec *r)
{
	const struct qval *cpus = &r->v[NN_CPUS];
	for (int i = 0; cpus->set && i < cpus->u.strs.n; i++) {
		const char *bad;
		size_t badn;
		if (!cpu_parts(cpus->u.strs.v[i], cpus->u.strs.len[i], &bad, &badn, NULL, NULL)) {
			char name[32];
			snprintf(name, sizeof name, cpus->u.strs.list ? "cpus[%d]" : "cpus", i + 1);
			if (badn == cpus->u.strs.len[i])
				ck_fail(c, name, "invalid CPU list '%.*s' (expected indexes and ranges like '0-3,5')",
				        (int)badn, bad);
			ck_fail(c, name, "invalid CPU list '%.*s' at '%.*s' (expected indexes and ranges like '0-3,5')",
			        (int)cpus->u.strs.len[i], cpus->u.strs.v[i], (int)badn, bad);
		}
	}
	if (has(r, NN_MEM_SIZE) && r->v[NN_MEM_SIZE].u.size == 0)
		ck_fail(c, "mem_size", "size must be greater than 0 (leave it out for a node without memory)");
	if (has(r, NN_MEM_SIZE) && r->v[NN_MEM_SIZE].u.size > 0x7fffffffffffffffULL)
		ck_fail(c, "mem_size", "too large");
	if (has(r, NN_HOST_NODES) && r->v[NN_HOST_NODES].u.ints.n == 0)
		ck_fail(c, "host_nodes", "empty list (leave the field out instead)");
	if (has(r, NN_POLICY) && !has(r, NN_HOST_NODES))
		ck_fail(c, "policy", "only used with 'host_nodes'");
	static const int memonly[] = { NN_HOST_NODES, NN_MEM_BACKEND_TYPE, NN_MEM_BACKEND_PATH };
	for (int i = 0; i < 3; i++)
		if (has(r, memonly[i]) && !has(r, NN_MEM_SIZE))
			ck_fail(c, kind_fields(r->k)[memonly[i]].name, "only used with 'mem_size' (a node without memory has "
			        "no backend)");
	if (has(r, NN_MEM_BACKEND_PATH) && has(r, NN_MEM_BACKEND_TYPE) &&
	    !eis(r, NN_MEM_BACKEND_TYPE, "memory-backend-file"))
		ck_fail(c, "mem_backend_path", "not used with mem_backend_type '%s'", eval(r, NN_MEM_BACKEND_TYPE));
	/* with host_nodes the backend goes to QEMU as JSON, which has no room
	 * for bytes that are not UTF-8 */
	if (has(r, NN_MEM_BACKEND_PATH) && has(r, NN_HOST_NODES)) {
		json_t *j = json_stringn(sval(r, NN_MEM_BACKEND_PATH), slen(r, NN_MEM_BACKEND_PATH));
		if (!j)
			ck_fail(c, "mem_backend_path", "not valid UTF-8 (with host_nodes the backend is passed as JSON)");
		json_decref(j);
	}
}

const struct kind sec_numa_node = {
	.name = "nodes", FIELDS(numa_node_fields),
	.doc = "a guest NUMA node", .check = numa_node_check,
};

static const struct field numa_dist_fields[] = {
	[ND_SRC] = { .name = "src", .type = T_UINT, .flags = F_REQ, .max = 127, .doc = "a node_id" },
	[ND_DST] = { .name = "dst", .type = T_UINT, .flags = F_REQ, .max = 127, .doc = "another node_id" },
	[ND_VAL] = { .name = "val", .type = T_UINT, .flags = F_REQ, .min = 10, .max = 255,
	             .doc = "distance (10: local; 255: unreachable)" },
};
const struct kind sec_numa_dist = {
	.name = "dists", FIELDS(numa_dist_fields),
	.doc = "the distance between two guest NUMA nodes",
};

static const struct field numa_fields[] = {
	[NU_NODES] = { .name = "nodes", .type = T_RECS, .sub = &sec_numa_node,
	               .doc = "the guest's NUMA nodes: { {node_id, cpus, mem_size, host_nodes, ...}, ... }" },
	[NU_DISTS] = { .name = "dists", .type = T_RECS, .sub = &sec_numa_dist,
	               .doc = "distances: { {src, dst, val}, ... }; one per pair of nodes at least" },
};
const struct kind sec_numa = {
	.name = "numa", FIELDS(numa_fields),
	.doc = "guest NUMA topology (-numa)",
};

/* ---- whole-VM rules ------------------------------------------------------------------ */

/* Does any NUMA node carry memory?  Then the nodes' backends are guest
 * RAM, and there is no -machine memory-backend. */
static int numa_memory(const struct rec *vm)
{
	const struct rec *nu = vm_sec(vm, VM_NUMA);
	if (!nu || !has(nu, NU_NODES))
		return 0;
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++)
		if (has(nu->v[NU_NODES].u.recs.v[i], NN_MEM_SIZE))
			return 1;
	return 0;
}

/* RAM needs an explicit backend object: a path, hugepages or any of the
 * memory knobs; NUMA nodes with memory have their own backends. */
int vm_memory_backend(const struct rec *vm)
{
	const struct rec *m = vm_sec(vm, VM_MEMORY);
	return m && !numa_memory(vm) &&
	       (has(m, ME_PATH) || vm_knob_on(vm, KN_HUGEPAGES) || vm_knob_on(vm, KN_MEM_PREALLOC) ||
	        vm_knob_on(vm, KN_FILE_BACKED_MEM) || vm_knob_on(vm, KN_MEM_SHARED));
}

void vm_size_text(unsigned long long v, char *b, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v && v % 1024 == 0)
		v /= 1024, u++;
	char d[32], *p = val_digits(d, v);
	size_t len = (size_t)(d + sizeof d - p);
	if (len + 2 > n)
		len = n - 2;  /* (never: every caller's buffer holds 20 digits) */
	memcpy(b, p, len);
	b[len] = u < 0 ? 'B' : units[u];
	b[len + 1] = '\0';
}

void vm_check_memory_knobs(struct ck *c, const struct rec *vm)
{
	static const int needs_size[] = { KN_HUGEPAGES, KN_MEM_PREALLOC, KN_FILE_BACKED_MEM, KN_MEM_SHARED };
	char name[40];
	for (int i = 0; i < 4; i++)
		if (vm_knob_on(vm, needs_size[i]) && !has(vm, VM_MEMORY)) {
			snprintf(name, sizeof name, "knobs.%s", kind_fields(&sec_knobs)[needs_size[i]].name);
			ck_fail(c, name, "needs 'memory.size' (the memory is reserved up front)");
		}
	const struct rec *m = vm_sec(vm, VM_MEMORY);
	if (vm_knob_on(vm, KN_FILE_BACKED_MEM) && !numa_memory(vm) && !has(m, ME_PATH))
		ck_fail(c, "knobs.file_backed_mem", "needs 'memory.path' (the file backing guest RAM)");
}

/* numa: nodes 0..N-1, each CPU in one node (all of them, once any is
 * placed), sizes adding up to memory.size, distances QEMU takes. */
struct cpuset {
	unsigned char *seen;
	long max;
	long dup, over;     /* the first CPU given twice / beyond maxcpus, or -1 */
	int count;
};

static void cpu_mark(void *arg, long a, long b)
{
	struct cpuset *cs = arg;
	for (long i = a; i <= b; i++) {
		if (i >= cs->max) {
			if (cs->over < 0)
				cs->over = i;
			continue;
		}
		if (cs->seen[i] && cs->dup < 0)
			cs->dup = i;
		if (!cs->seen[i])
			cs->count++;
		cs->seen[i] = 1;
	}
}

/* numa.dists: has the distance from src to dst been given (a bit set of
 * 128 x 128 on vm_check_numa's stack: node ids are below 128)? */
static int dist_given(uint64_t given[][2], long long src, long long dst)
{
	return given[src][dst / 64] >> (dst % 64) & 1;
}

void vm_check_numa(struct ck *c, const struct rec *vm)
{
	const struct rec *nu = vm_sec(vm, VM_NUMA);
	if (!nu)
		return;
	const struct rec *m = vm_sec(vm, VM_MEMORY), *smp = vm_sec(vm, VM_SMP);
	int n = has(nu, NU_NODES) ? nu->v[NU_NODES].u.recs.n : 0;
	struct rec *const *nodes = n ? nu->v[NU_NODES].u.recs.v : NULL;
	char name[64];
	if (!n && has(nu, NU_DISTS) && nu->v[NU_DISTS].u.recs.n)
		ck_fail(c, "numa.dists", "distances without 'numa.nodes'");
	if (!n)
		return;
	if (!m)
		ck_fail(c, "numa", "needs 'memory.size' (the nodes' mem_size add up to it)");

	/* node ids: each once, 0..N-1 */
	unsigned char ids[128] = { 0 };
	for (int i = 0; i < n; i++) {
		long long id = ival(nodes[i], NN_NODE_ID);
		snprintf(name, sizeof name, "numa.nodes[%d].node_id", i + 1);
		if (ids[id])
			ck_fail(c, name, "node %lld is given twice", id);
		if (id >= n)
			ck_fail(c, name, "%lld, but the %d nodes are numbered 0..%d", id, n, n - 1);
		ids[id] = 1;
	}

	/* CPUs */
	long maxcpus = 1;
	if (smp)
		maxcpus = ival(smp, has(smp, SM_MAXCPUS) ? SM_MAXCPUS : SM_CPUS);
	unsigned char seen[4096] = { 0 };
	struct cpuset cs = { seen, maxcpus, -1, -1, 0 };
	int placed = 0;
	for (int i = 0; i < n; i++) {
		const struct qval *cpus = &nodes[i]->v[NN_CPUS];
		for (int j = 0; cpus->set && j < cpus->u.strs.n; j++) {
			const char *bad;
			size_t badn;
			cpu_parts(cpus->u.strs.v[j], cpus->u.strs.len[j], &bad, &badn, cpu_mark, &cs);
			placed = 1;
			snprintf(name, sizeof name, "numa.nodes[%d].cpus", i + 1);
			if (cs.over >= 0)
				ck_fail(c, name, "CPU %ld, but the VM has %ld CPU%s (%s)", cs.over, maxcpus,
				        maxcpus == 1 ? "" : "s", !smp ? "no smp section" :
				        has(smp, SM_MAXCPUS) ? "smp.maxcpus" : "smp.cpus");
			if (cs.dup >= 0)
				ck_fail(c, name, "CPU %ld is already in another node", cs.dup);
		}
	}
	if (placed && cs.count < maxcpus) {
		long missing = 0;
		while (seen[missing])
			missing++;
		ck_fail(c, "numa.nodes", "CPU %ld is in no node (once CPUs are placed, QEMU wants every one of the "
		        "%ld placed)", missing, maxcpus);
	}

	/* memory */
	unsigned long long sum = 0;
	for (int i = 0; i < n; i++) {
		const struct rec *nd = nodes[i];
		if (!has(nd, NN_MEM_SIZE))
			continue;
		sum += nd->v[NN_MEM_SIZE].u.size;
		snprintf(name, sizeof name, "numa.nodes[%d].mem_backend_path", i + 1);
		int file = eis(nd, NN_MEM_BACKEND_TYPE, "memory-backend-file") ||
		           (!has(nd, NN_MEM_BACKEND_TYPE) && (vm_knob_on(vm, KN_FILE_BACKED_MEM) || vm_knob_on(vm, KN_HUGEPAGES)));
		if (vm_knob_on(vm, KN_FILE_BACKED_MEM) && !has(nd, NN_MEM_BACKEND_PATH))
			ck_fail(c, NULL, "field '%s' is required with knobs.file_backed_mem (each node's RAM has its "
			        "own file)", name);
		if (file && !has(nd, NN_MEM_BACKEND_PATH) && !vm_knob_on(vm, KN_HUGEPAGES))
			ck_fail(c, NULL, "field '%s' is required with mem_backend_type 'memory-backend-file'", name);
	}
	if (sum && has(m, ME_PATH))
		ck_fail(c, "memory.path", "not used with NUMA nodes that have memory (give each node "
		        "'mem_backend_path')");
	if (sum != m->v[ME_SIZE].u.size) {
		char a[32], b[32];
		vm_size_text(sum, a, sizeof a);
		vm_size_text(m->v[ME_SIZE].u.size, b, sizeof b);
		ck_fail(c, "numa.nodes", "the nodes' mem_size add up to %s, but memory.size is %s", a, b);
	}

	/* distances */
	if (!has(nu, NU_DISTS) || !nu->v[NU_DISTS].u.recs.n)
		return;
	int nd = nu->v[NU_DISTS].u.recs.n;
	struct rec *const *dists = nu->v[NU_DISTS].u.recs.v;
	uint64_t given[128][2] = { { 0 } };  /* see dist_given */
	for (int i = 0; i < nd; i++) {
		long long src = ival(dists[i], ND_SRC), dst = ival(dists[i], ND_DST), val = ival(dists[i], ND_VAL);
		snprintf(name, sizeof name, "numa.dists[%d].%s", i + 1, src >= n ? "src" : "dst");
		if (src >= n || dst >= n)
			ck_fail(c, name, "no node %lld (the nodes are 0..%d)", src >= n ? src : dst, n - 1);
		snprintf(name, sizeof name, "numa.dists[%d].val", i + 1);
		if (src == dst && val != 10)
			ck_fail(c, name, "%lld, but a node's distance to itself is 10", val);
		snprintf(name, sizeof name, "numa.dists[%d]", i + 1);
		if (dist_given(given, src, dst))
			ck_fail(c, name, "the distance from node %lld to node %lld is given twice", src, dst);
		given[src][dst / 64] |= 1ull << (dst % 64);
	}
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (!dist_given(given, a, b) && !dist_given(given, b, a))
				ck_fail(c, "numa.dists", "no distance between nodes %d and %d (QEMU needs one for each pair "
				        "once any is given)", a, b);
}

/* ---- rendering ---- */

/* A memory backend: its type, path (or NULL), sharing and preallocation. */
struct backend {
	const char *type, *path;
	size_t pathlen;
	int share, prealloc;
};

static void render_backend(struct emit *e, const char *id, unsigned long long size, const struct backend *b)
{
	opt_begin(e, "-object");
	opt_head(e, b->type, strlen(b->type));
	opt_cstr(e, "id", id);
	opt_uint(e, "size", size);
	if (b->path)
		opt_str(e, "mem-path", b->path, b->pathlen);
	if (b->share)
		opt_bool(e, "share", 1);
	if (b->prealloc)
		opt_bool(e, "prealloc", 1);
	opt_end(e);
}

/* The same backend as a JSON -object, for the host-nodes list: QEMU's
 * key=value syntax takes one range only ("host-nodes=0-1"), JSON any set. */
static void render_backend_json(struct emit *e, const char *id, unsigned long long size,
                                const struct backend *b, const struct rec *nd)
{
	json_t *o = json_object();
	json_object_set_new(o, "qom-type", json_string(b->type));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "size", json_integer((json_int_t)size));
	if (b->path)
		json_object_set_new(o, "mem-path", json_stringn(b->path, b->pathlen));  /* UTF-8: checked */
	if (b->share)
		json_object_set_new(o, "share", json_true());
	if (b->prealloc)
		json_object_set_new(o, "prealloc", json_true());
	json_t *hn = json_array();
	const struct qval *h = &nd->v[NN_HOST_NODES];
	for (int i = 0; i < h->u.ints.n; i++)
		json_array_append_new(hn, json_integer(h->u.ints.v[i]));
	json_object_set_new(o, "host-nodes", hn);
	json_object_set_new(o, "policy", json_string(has(nd, NN_POLICY) ? eval(nd, NN_POLICY) : "bind"));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	emit_arg(e, "-object", s, strlen(s));
	free(s);
}

void vm_render_numa(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	const struct rec *nu = vm_sec(vm, VM_NUMA);
	if (!nu || !has(nu, NU_NODES))
		return;
	char id[32];
	int huge = vm_knob_on(vm, KN_HUGEPAGES);
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++) {
		const struct rec *nd = nu->v[NU_NODES].u.recs.v[i];
		if (!has(nd, NN_MEM_SIZE))
			continue;
		struct backend b = { "memory-backend-ram", NULL, 0, vm_knob_on(vm, KN_MEM_SHARED) || huge,
		                     vm_knob_on(vm, KN_MEM_PREALLOC) || huge };
		if (has(nd, NN_MEM_BACKEND_TYPE))
			b.type = eval(nd, NN_MEM_BACKEND_TYPE);
		else if (has(nd, NN_MEM_BACKEND_PATH) || huge || vm_knob_on(vm, KN_FILE_BACKED_MEM))
			b.type = "memory-backend-file";
		else if (vm_knob_on(vm, KN_MEM_SHARED))
			b.type = "memory-backend-memfd";
		if (!strcmp(b.type, "memory-backend-file")) {
			b.path = has(nd, NN_MEM_BACKEND_PATH) ? sval(nd, NN_MEM_BACKEND_PATH) : "/dev/hugepages";
			b.pathlen = has(nd, NN_MEM_BACKEND_PATH) ? slen(nd, NN_MEM_BACKEND_PATH) : 14;
		}
		snprintf(id, sizeof id, "qlua-numa%lld", ival(nd, NN_NODE_ID));
		if (has(nd, NN_HOST_NODES))
			render_backend_json(e, id, nd->v[NN_MEM_SIZE].u.size, &b, nd);
		else
			render_backend(e, id, nd->v[NN_MEM_SIZE].u.size, &b);
	}
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++) {
		const struct rec *nd = nu->v[NU_NODES].u.recs.v[i];
		opt_begin(e, "-numa");
		opt_head(e, "node", 4);
		opt_int(e, "nodeid", ival(nd, NN_NODE_ID));
		const struct qval *cpus = &nd->v[NN_CPUS];
		for (int j = 0; cpus->set && j < cpus->u.strs.n; j++) {
			/* "0-1,4": one cpus= per part (checked: digits and '-' only) */
			const char *s = cpus->u.strs.v[j], *end = s + cpus->u.strs.len[j];
			while (s < end) {
				const char *comma = memchr(s, ',', end - s);
				const char *pe = comma ? comma : end;
				opt_str(e, "cpus", s, pe - s);
				s = pe + 1;
			}
		}
		if (has(nd, NN_MEM_SIZE)) {
			snprintf(id, sizeof id, "qlua-numa%lld", ival(nd, NN_NODE_ID));
			opt_cstr(e, "memdev", id);
		}
		opt_end(e);
	}
	for (int i = 0; has(nu, NU_DISTS) && i < nu->v[NU_DISTS].u.recs.n; i++) {
		const struct rec *d = nu->v[NU_DISTS].u.recs.v[i];
		opt_begin(e, "-numa");
		opt_head(e, "dist", 4);
		opt_int(e, "src", ival(d, ND_SRC));
		opt_int(e, "dst", ival(d, ND_DST));
		opt_int(e, "val", ival(d, ND_VAL));
		opt_end(e);
	}
}

/* -m, and the RAM's backend object when it needs one (vm_memory_backend). */
void vm_render_memory(struct render *rc, const struct rec *vm)
{
	struct emit *e = rc->e;
	const struct rec *m = vm_sec(vm, VM_MEMORY);
	char b[64];
	if (!m)
		return;
	vm_size_text(m->v[ME_SIZE].u.size, b, sizeof b);
	opt_begin(e, "-m");
	opt_head(e, b, strlen(b));
	if (has(m, ME_SLOTS))
		opt_int(e, "slots", ival(m, ME_SLOTS));
	if (has(m, ME_MAXMEM)) {
		vm_size_text(m->v[ME_MAXMEM].u.size, b, sizeof b);
		opt_cstr(e, "maxmem", b);
	}
	opt_end(e);
	if (!vm_memory_backend(vm))
		return;
	int huge = vm_knob_on(vm, KN_HUGEPAGES);
	struct backend bk = { "memory-backend-ram", NULL, 0, huge || vm_knob_on(vm, KN_MEM_SHARED),
	                      huge || vm_knob_on(vm, KN_MEM_PREALLOC) };
	if (has(m, ME_PATH) || huge) {
		bk.type = "memory-backend-file";
		bk.path = has(m, ME_PATH) ? sval(m, ME_PATH) : "/dev/hugepages";
		bk.pathlen = has(m, ME_PATH) ? slen(m, ME_PATH) : 14;
	} else if (vm_knob_on(vm, KN_MEM_SHARED)) {
		/* shared RAM others can map needs a descriptor: a memfd (an
		 * anonymous shared mapping has none) */
		bk.type = "memory-backend-memfd";
	}
	render_backend(e, "qlua-mem", m->v[ME_SIZE].u.size, &bk);
}
