/* schema_pack.c - the build-time program that writes
 * build/schema_packed.inc (on standard output): every registered kind's
 * fields as numbers and offsets into one pool of strings, which qlua
 * unpacks a kind at a time (why: schema.h, kind_fields).  It is linked
 * with qlua's sources compiled without QLUA_SCHEMA_PACKED, so here the
 * kind tables are compiled in and read as they are written.  It fails,
 * and with it the build, when a kind's section is in no list of the
 * registry: qlua would not know that kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "schema.h"
#include "schema_packed.h"

/* Every member of struct field is carried below and in schema_packed.c:
 * one added there must be carried too. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct field) == 136,
               "struct field changed: carry the change in src/gen/schema_pack.c and src/schema_packed.c");

static char *pool;                     /* the strings, each ending in NUL, each once */
static size_t npool, cappool;
static unsigned *lists;
static size_t nlists, caplists;

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	p = realloc(p, *cap * size);
	if (!p) {
		perror("schema_pack");
		exit(1);
	}
	return p;
}

/* 1 + the offset of s in the pool (added when new); 0 for NULL. */
static unsigned str(const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s) + 1;
	for (size_t o = 0; o < npool; o += strlen(pool + o) + 1)
		if (!memcmp(pool + o, s, n))
			return (unsigned)o + 1;
	pool = grow(pool, &cappool, npool + n, 1);
	memcpy(pool + npool, s, n);
	npool += n;
	return (unsigned)(npool - n) + 1;
}

/* 1 + where the NULL-terminated list l starts in the lists; 0 for NULL. */
static unsigned list(const char *const *l)
{
	if (!l)
		return 0;
	size_t n = 0;
	while (l[n])
		n++;
	unsigned at = (unsigned)nlists;
	lists = grow(lists, &caplists, nlists + n + 1, sizeof *lists);
	for (size_t i = 0; i < n; i++)
		lists[at + i] = str(l[i]);
	lists[at + n] = 0;
	nlists += n + 1;
	return at + 1;
}

/* The strings as C literals, one each, so that the file can be read. */
static void put_pool(void)
{
	printf("static const char packed_str[] =\n");
	for (size_t o = 0; o < npool; o += strlen(pool + o) + 1) {
		putchar('\t');
		putchar('"');
		for (const unsigned char *c = (const unsigned char *)pool + o; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '?')
				printf("\\%c", *c);
			else if (*c < 0x20 || *c >= 0x7f)
				printf("\\%03o", *c);
			else
				putchar(*c);
		}
		printf("\\0\"\n");
	}
	printf(";\n\n");
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_list(const char *const *a, const char *const *b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b))
			return 0;
	return !*a && !*b;
}

static int same_when(const struct when *a, const struct when *b)
{
	return a->field == b->field && same_list(a->values, b->values);
}

/* Where the check's unpacked lists go, freed after it. */
static struct arena made;

static void *take(size_t n)
{
	return arena_alloc(&made, n);
}

/* Does every field written unpack, as qlua will unpack it, to the field
 * as the tables have it? */
static int same_unpacked(const struct packed_field *pf)
{
	int ok = 1, n = 0;
	for (int i = 0; ok && i < schema_nkinds(); i++) {
		const struct kind *k = schema_kind_at(i);
		for (int j = 0; j < k->nfields; j++) {
			const struct field *f = &kind_fields(k)[j];
			struct field u;
			schema_unpack_field(&u, &pf[n++], pool, lists, take);
			if (!same_str(u.name, f->name) || u.type != f->type || u.flags != f->flags || u.ns != f->ns ||
			    u.opt != f->opt || !same_str(u.key, f->key) || !same_str(u.flag, f->flag) ||
			    !same_list(u.choices, f->choices) || u.min != f->min || u.max != f->max ||
			    !same_str(u.def, f->def) || !same_str(u.def_alt, f->def_alt) ||
			    !same_when(&u.def_when, &f->def_when) || u.sub != f->sub || !same_when(&u.only, &f->only) ||
			    !same_when(&u.req, &f->req) || !same_str(u.doc, f->doc)) {
				fprintf(stderr, "schema_pack: %s.%s does not unpack to the field it was\n", k->name, f->name);
				ok = 0;
			}
		}
	}
	arena_free(&made);
	return ok;
}

int main(void)
{
	int nk = schema_nkinds(), nf = 0, bad = 0;
	struct packed_kind *pk = calloc((size_t)nk, sizeof *pk);
	int total = 0;
	for (int i = 0; i < nk; i++)
		total += schema_kind_at(i)->nfields;
	struct packed_field *pf = calloc((size_t)total + 1, sizeof *pf);
	if (!pk || !pf) {
		perror("schema_pack");
		return 1;
	}
	for (int i = 0; i < nk; i++) {
		const struct kind *k = schema_kind_at(i);
		const struct field *fs = kind_fields(k);
		pk[i] = (struct packed_kind){ str(k->name), (unsigned)nf, k->nfields };
		for (int j = 0; j < k->nfields; j++) {
			const struct field *f = &fs[j];
			int sub = f->sub ? schema_kind_no(f->sub) : -1;
			if (f->sub && sub < 0) {
				fprintf(stderr, "schema_pack: %s.%s is a section of kind '%s', which is in no list of "
				        "the registry (schema.h: schema_device_sections, schema_vm_sections, ...)\n",
				        k->name, f->name, f->sub->name);
				bad = 1;
			}
			pf[nf++] = (struct packed_field){
				.name = str(f->name), .key = str(f->key), .flag = str(f->flag), .def = str(f->def),
				.def_alt = str(f->def_alt), .doc = str(f->doc), .choices = list(f->choices),
				.def_when = list(f->def_when.values), .only = list(f->only.values),
				.req = list(f->req.values), .min = f->min, .max = f->max, .sub = (short)sub,
				.type = f->type, .flags = f->flags, .ns = f->ns, .opt = f->opt,
				.def_when_field = f->def_when.field, .only_field = f->only.field,
				.req_field = f->req.field,
			};
		}
	}
	if (bad || !same_unpacked(pf))
		return 1;

	printf("/* build/schema_packed.inc - written by src/gen/schema_pack.c from the kind\n"
	       " * tables in src/ (make): do not edit. */\n\n");
	printf("#define PACKED_NKINDS %d\n#define PACKED_NFIELDS %d\n#define PACKED_NLISTS %zu\n\n", nk, nf,
	       nlists ? nlists : 1);
	put_pool();
	printf("static const unsigned packed_lists[PACKED_NLISTS] = {");
	for (size_t i = 0; i < nlists; i++)
		printf("%s%u,", i % 16 ? " " : "\n\t", lists[i]);
	printf("\n};\n\nstatic const struct packed_kind packed_kinds[PACKED_NKINDS] = {\n");
	for (int i = 0; i < nk; i++)
		printf("\t{ %u, %u, %d },  /* %s */\n", pk[i].name, pk[i].first, pk[i].nfields, schema_kind_at(i)->name);
	printf("};\n\nstatic const struct packed_field packed_fields[PACKED_NFIELDS] = {\n");
	for (int i = 0; i < nf; i++) {
		const struct packed_field *p = &pf[i];
		printf("\t{ %u, %u, %u, %u, %u, %u, %u, %u, %u, %u, %lldLL, %lldLL, %d, %u, %u, %u, %d, %d, %d, %d },\n",
		       p->name, p->key, p->flag, p->def, p->def_alt, p->doc, p->choices, p->def_when, p->only,
		       p->req, p->min, p->max, p->sub, p->type, p->flags, p->ns, p->opt, p->def_when_field,
		       p->only_field, p->req_field);
	}
	printf("};\n");
	free(pk);
	free(pf);
	free(pool);
	free(lists);
	return fflush(stdout) || ferror(stdout);
}
