/* fuzz/values.c - libFuzzer target: the scalar parsers of src/values.c.
 *
 * Every parser gets the whole input, copied into a buffer of exactly its
 * size with no NUL after it, so ASan catches any read past n.  What a
 * parser accepts must hold up (fuzz/README.md): val_size agrees with an
 * independent computation in 128-bit arithmetic (nothing that overflows
 * 64 bits is accepted, nothing that fits is refused) and reads back the
 * same from its decimal text; slots, functions and ids are in range and
 * read back the same from the text qlua renders; shaped strings have their
 * shape; names and ids hold nothing QEMU's option parser would split on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

static void violated(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "values: %s: '", what);
	fwrite(s, 1, n, stderr);
	fprintf(stderr, "'\n");
	abort();
}

static int ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* val_size's grammar, computed another way: digits, then at most one of
 * K, M, G, T (either case); 0 when it is not that or does not fit. */
static int size_ref(const char *s, size_t n, unsigned long long *out)
{
	static const char units[] = "kmgt";
	unsigned __int128 v = 0;
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (unsigned)(s[i++] - '0');
		if (v > UINT64_MAX)
			return 0;
	}
	if (i == 0)
		return 0;
	if (i < n) {
		const char *u = s[i] ? strchr(units, s[i] | 0x20) : NULL;
		if (!u || i + 1 != n)
			return 0;
		v <<= 10 * (u - units + 1);
		if (v > UINT64_MAX)
			return 0;
	}
	*out = (unsigned long long)v;
	return 1;
}

static void check_size(const char *s, size_t n)
{
	unsigned long long v = 0, ref = 0, again = 0;
	int ok = val_size(s, n, &v), refok = size_ref(s, n, &ref);
	if (ok != refok)
		violated(ok ? "val_size accepts what does not fit in 64 bits or is no size"
		            : "val_size refuses a size that fits", s, n);
	if (!ok)
		return;
	if (v != ref)
		violated("val_size reads another value", s, n);
	char text[32];
	int len = snprintf(text, sizeof text, "%llu", v);
	if (!val_size(text, len, &again) || again != v)
		violated("val_size does not read its value's decimal text back", s, n);
}

static void check_pci(const char *s, size_t n)
{
	int slot = -2, fn = -2, slot2, fn2;
	if (!val_pci(s, n, &slot, &fn))
		return;
	if (slot < 0 || slot > 0x1f || fn < -1 || fn > 7)
		violated("val_pci accepts a slot or function out of range", s, n);
	/* what render.c writes for it */
	char text[32];
	int len = fn >= 0 ? snprintf(text, sizeof text, "0x%x.%x", slot, fn) : snprintf(text, sizeof text, "0x%x", slot);
	if (!val_pci(text, len, &slot2, &fn2) || slot2 != slot || fn2 != fn)
		violated("val_pci does not read its rendering back", s, n);
}

static void check_hex16(const char *s, size_t n)
{
	unsigned long v, again;
	if (!val_hex16(s, n, &v))
		return;
	if (v > 0xffff)
		violated("val_hex16 accepts more than 16 bits", s, n);
	char text[16];
	int len = snprintf(text, sizeof text, "0x%04lx", v);  /* what render.c writes */
	if (!val_hex16(text, len, &again) || again != v)
		violated("val_hex16 does not read its rendering back", s, n);
}

/* An accepted string of a fixed shape: its length is one of the shape's,
 * and at each position there is what the pattern says ('x' a hex digit,
 * 'd' a decimal one, anything else itself). */
static int shaped(const char *s, size_t n, const char *pat)
{
	if (strlen(pat) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pat[i] == 'x' ? !ishex(s[i]) : pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			return 0;
	return 1;
}

static void check_shapes(const char *s, size_t n)
{
	if (val_mac(s, n) && !shaped(s, n, "xx:xx:xx:xx:xx:xx"))
		violated("val_mac accepts something else", s, n);
	if (val_uuid(s, n) && !shaped(s, n, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"))
		violated("val_uuid accepts something else", s, n);
	if (val_bdf(s, n) && !shaped(s, n, "xxxx:xx:xx.x") && !shaped(s, n, "xx:xx.x"))
		violated("val_bdf accepts something else", s, n);
	if (val_devno(s, n) && !shaped(s, n, "xx.x.xxxx") && !shaped(s, n, "x.x.xxxx"))
		violated("val_devno accepts something else", s, n);
	if (val_rtcbase(s, n) && !(n == 3 && !memcmp(s, "utc", 3)) && !(n == 9 && !memcmp(s, "localtime", 9)) &&
	    !shaped(s, n, "dddd-dd-dd") && !shaped(s, n, "dddd-dd-ddTdd:dd:dd"))
		violated("val_rtcbase accepts something else", s, n);
}

/* Names and ids go into key=value options unescaped in places (an implied
 * first value, a key): none may hold what the parser splits on, or what
 * argv cannot carry. */
static void check_words(const char *s, size_t n)
{
	int name = val_name(s, n), id = val_id(s, n), prop = val_propname(s, n);
	if ((name || id || prop) && (memchr(s, ',', n) || memchr(s, '=', n) || memchr(s, '\0', n) ||
	                             memchr(s, '\n', n) || memchr(s, ' ', n)))
		violated("a name, id or property name holds ',', '=', NUL, a newline or a space", s, n);
	if (id && !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
		violated("val_id accepts an id that does not start with a letter", s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size);  /* exactly size bytes: no terminator to lean on */
	if (!s)
		return 0;
	memcpy(s, data, size);
	check_size(s, size);
	check_pci(s, size);
	check_hex16(s, size);
	check_shapes(s, size);
	check_words(s, size);
	free(s);
	return 0;
}
