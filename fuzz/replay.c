/* fuzz/replay.c - a main() for a libFuzzer target built without clang:
 * each file named on the command line is read and handed to the target's
 * LLVMFuzzerTestOneInput once, in order, as libFuzzer would replay a
 * corpus.  The target's own property checks run as they do under the
 * fuzzer (a violation aborts), so the normal test suite (spec/fuzz_spec.lua)
 * replays the committed qmp and values corpora with the compiler and the
 * sanitizers of the build (make check-asan: ASan and UBSan too).  That is
 * what keeps a target from going stale when the code under it changes: a
 * target that no longer compiles, or whose checks no longer hold, fails
 * make check instead of waiting for the next fuzzing session.
 *
 * usage: build/replay/TARGET FILE...   (prints "N inputs" and exits 0) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file; NULL (and a message) when it cannot be read. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return NULL;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (!b)
				free(buf);
			buf = b;
		}
	}
	if (!buf || ferror(f)) {
		fprintf(stderr, "%s: cannot read it\n", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*n = len;
	/* libFuzzer hands over a buffer of exactly the input's size (so ASan
	 * sees a read past it): the same here */
	uint8_t *exact = buf ? realloc(buf, len ? len : 1) : NULL;
	if (buf && !exact)
		free(buf);
	return exact;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		size_t n;
		uint8_t *data = slurp(argv[i], &n);
		if (!data)
			return 1;
		LLVMFuzzerTestOneInput(data, n);
		free(data);
	}
	printf("%d inputs\n", argc - 1);
	return 0;
}
