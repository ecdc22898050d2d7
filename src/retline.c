/* retline.c - see retline.h.  A small Lua tokenizer: enough to skip
 * comments and strings and to know when we are inside a function body. */
#include "retline.h"

#include <ctype.h>
#include <string.h>

/* The level of a long bracket at s ("[[" 0, "[==[" 2), or -1. */
static int long_open(const char *s, const char *end)
{
	if (s >= end || *s != '[')
		return -1;
	int level = 0;
	const char *p = s + 1;
	while (p < end && *p == '=')
		p++, level++;
	return p < end && *p == '[' ? level : -1;
}

/* Skips a long bracket body at s (after its opening); counts lines. */
static const char *long_skip(const char *s, const char *end, int level, int *line)
{
	for (; s < end; s++) {
		if (*s == '\n')
			(*line)++;
		else if (*s == ']') {
			const char *p = s + 1;
			int l = 0;
			while (p < end && *p == '=')
				p++, l++;
			if (l == level && p < end && *p == ']')
				return p + 1;
		}
	}
	return end;
}

/* The line of the last main-chunk `return` at or before `line` (0: none);
 * *count gets how many there are up to there. */
static int scan(const char *src, size_t n, int line, int *count)
{
	const char *s = src, *end = src + n;
	*count = 0;
	int cur = 1, found = 0;
	/* the block stack: 'f' for function bodies, 'b' for other blocks */
	char stack[256];
	int depth = 0, fdepth = 0;
	if (n > 1 && s[0] == '#') /* a #! line */
		while (s < end && *s != '\n')
			s++;
	while (s < end && cur <= line) {
		char ch = *s;
		if (ch == '\n') {
			cur++;
			s++;
		} else if (ch == '-' && s + 1 < end && s[1] == '-') {
			int level = long_open(s + 2, end);
			if (level >= 0)
				s = long_skip(s + 4 + level, end, level, &cur);
			else
				while (s < end && *s != '\n')
					s++;
		} else if (ch == '"' || ch == '\'') {
			for (s++; s < end && *s != ch && *s != '\n'; s++) {
				if (*s != '\\' || s + 1 >= end)
					continue;
				if (s[1] == 'z') {
					/* \z skips the white space after it, line breaks included */
					for (s += 2; s < end && isspace((unsigned char)*s); s++)
						cur += *s == '\n';
					s--;
				} else {
					cur += s[1] == '\n';
					s++;
				}
			}
			s++;
		} else if (ch == '[' && long_open(s, end) >= 0) {
			int level = long_open(s, end);
			s = long_skip(s + 2 + level, end, level, &cur);
		} else if (isalpha((unsigned char)ch) || ch == '_') {
			const char *w = s;
			while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
				s++;
			size_t len = s - w;
#define IS(k) (len == sizeof k - 1 && !memcmp(w, k, len))
			if (IS("function") || IS("if") || IS("do") || IS("repeat")) {
				int fn = IS("function");
				if (depth < (int)sizeof stack)
					stack[depth] = fn ? 'f' : 'b';
				depth++;
				fdepth += fn;
			} else if ((IS("end") || IS("until")) && depth > 0) {
				depth--;
				if (depth < (int)sizeof stack && stack[depth] == 'f')
					fdepth--;
			} else if (IS("return") && fdepth == 0) {
				found = cur;
				(*count)++;
			}
#undef IS
		} else {
			s++;
		}
	}
	return found;
}

int retline_find(const char *src, size_t n, int line)
{
	int count, found = scan(src, n, line, &count);
	return found ? found : line;
}

int retline_count(const char *src, size_t n)
{
	int count;
	scan(src, n, 0x7fffffff, &count);
	return count;
}
