/* values.c - see values.h. */
#include "values.h"

#include <ctype.h>
#include <string.h>

/* The bytes names and ids are made of, by class: the C locale's isalpha
 * and isalnum (qlua never sets a locale) and the punctuation each allows,
 * as one table, since every name and id of a description comes through
 * here (the ctype calls were most of their cost). */
enum { CH_ALPHA = 1, CH_DIGIT = 2, CH_ID_PUNCT = 4, CH_NAME_PUNCT = 8 };
static const unsigned char ch_class[256] = {
	['a' ... 'z'] = CH_ALPHA, ['A' ... 'Z'] = CH_ALPHA, ['0' ... '9'] = CH_DIGIT,
	['-'] = CH_ID_PUNCT | CH_NAME_PUNCT, ['.'] = CH_ID_PUNCT | CH_NAME_PUNCT,
	['_'] = CH_ID_PUNCT | CH_NAME_PUNCT, ['+'] = CH_NAME_PUNCT,
};

/* A letter or digit, then letters, digits, '_', '.', '+', '-'. */
int val_name(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (!n || !(ch_class[u[0]] & (CH_ALPHA | CH_DIGIT)))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(ch_class[u[i]] & (CH_ALPHA | CH_DIGIT | CH_NAME_PUNCT)))
			return 0;
	return 1;
}

/* A letter, then letters, digits, '-', '.', '_': QEMU's id rules, and also
 * what a property name looks like. */
int val_id(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (!n || !(ch_class[u[0]] & CH_ALPHA))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(ch_class[u[i]] & (CH_ALPHA | CH_DIGIT | CH_ID_PUNCT)))
			return 0;
	return 1;
}

int val_propname(const char *s, size_t n)
{
	return val_id(s, n);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;  /* 'A'..'F' to 'a'..'f' (no other byte lands there); no tolower call per digit */
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Hex digits s[0..n) into *v; 0 when any is not hex or there are too many. */
static int parsehex(const char *s, size_t n, unsigned long *v)
{
	if (!n || n > 8)
		return 0;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[i]);
		if (h < 0)
			return 0;
		*v = *v * 16 + h;
	}
	return 1;
}

char *val_digits(char b[32], unsigned long long v)
{
	char *p = b + 32;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

int val_size(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;
	/* exactly what fits in 64 bits: 18446744073709551615 is a size, one
	 * more is not */
	for (; i < n && isdigit((unsigned char)s[i]); i++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (unsigned)(s[i] - '0'), &v))
			return 0;
	if (i == 0)
		return 0;
	if (i < n) {
		static const char units[] = "KMGT";
		const char *u = s[i] ? strchr(units, toupper((unsigned char)s[i])) : NULL;
		if (!u || i + 1 != n)
			return 0;
		for (int shift = (int)(u - units) + 1; shift > 0; shift--) {
			if (v > (~0ULL >> 10))
				return 0;
			v <<= 10;
		}
	}
	*out = v;
	return 1;
}

int val_mac(const char *s, size_t n)
{
	if (n != 17)
		return 0;
	for (size_t i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

int val_uuid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : hexval((unsigned char)s[i]) < 0)
			return 0;
	}
	return 1;
}

/* slot[.function], hex, as QEMU's addr= reads it. */
int val_pci(const char *s, size_t n, int *slot, int *fn)
{
	const char *p = s, *end = s + n, *dot = memchr(s, '.', n);
	unsigned long sl, f = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		p += 2;
	if (!parsehex(p, (dot ? dot : end) - p, &sl) || sl > 0x1f)
		return 0;
	if (dot && (!parsehex(dot + 1, end - dot - 1, &f) || f > 7))
		return 0;
	*slot = (int)sl;
	*fn = dot ? (int)f : -1;
	return 1;
}

int val_bdf(const char *s, size_t n)
{
	unsigned long dom, bus, dev, fn;
	if (n == 12) {
		if (!parsehex(s, 4, &dom) || s[4] != ':')
			return 0;
		s += 5;
		n -= 5;
	}
	return n == 7 && parsehex(s, 2, &bus) && s[2] == ':' && parsehex(s + 3, 2, &dev) &&
	       s[5] == '.' && parsehex(s + 6, 1, &fn) && dev <= 0x1f && fn <= 7;
}

int val_hex16(const char *s, size_t n, unsigned long *out)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, n -= 2;
	return n <= 4 && parsehex(s, n, out);
}

/* QEMU reads it with "%2x.%1x.%4x": cssid 0..fe, ssid 0..3, four digits. */
int val_devno(const char *s, size_t n)
{
	unsigned long css, ss, dev;
	size_t c = n >= 2 && s[1] != '.' ? 2 : 1;
	return n == c + 7 && parsehex(s, c, &css) && css <= 0xfe && s[c] == '.' && parsehex(s + c + 1, 1, &ss) &&
	       ss <= 3 && s[c + 2] == '.' && parsehex(s + c + 3, 4, &dev);
}

int val_rtcbase(const char *s, size_t n)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	if ((n == 3 && !memcmp(s, "utc", 3)) || (n == 9 && !memcmp(s, "localtime", 9)))
		return 1;
	if (n != 10 && n != 19)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	return 1;
}

/* Four decimal parts 0..255, no leading zeros (inet_aton would read "010"
 * as octal and "1" as 0.0.0.1; QEMU's slirp takes inet_pton's form). */
int val_ipv4(const char *s, size_t n, unsigned long *out)
{
	unsigned long a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return 0;
		size_t start = i;
		unsigned v = 0;
		while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return 0;
		a = a << 8 | v;
	}
	if (i != n)
		return 0;
	if (out)
		*out = a;
	return 1;
}

int val_ipv4_net(const char *s, size_t n, unsigned long *addr, int *prefix)
{
	const char *slash = memchr(s, '/', n);
	if (!slash || !val_ipv4(s, (size_t)(slash - s), addr))
		return 0;
	const char *p = slash + 1, *end = s + n;
	int len = 0;
	if (p == end || end - p > 2 || (end - p == 2 && *p == '0'))
		return 0;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		len = len * 10 + (*p - '0');
	}
	if (len > 32)
		return 0;
	unsigned long mask = len ? (0xffffffffUL << (32 - len)) & 0xffffffffUL : 0;
	if (*addr & ~mask & 0xffffffffUL)
		return 0;
	*prefix = len;
	return 1;
}
