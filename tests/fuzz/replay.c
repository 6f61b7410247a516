/*
 * tests/fuzz/replay.c — runs a libFuzzer-style target over saved inputs, so
 * `make test` replays every fuzz corpus with gcc and the sanitizers.
 * usage: fuzz-X FILE_OR_DIR...   (prints TAP, one line per input)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("not ok %d - cannot open %s\n", ++n, path);
		return;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
	size_t got = fread(data, 1, (size_t)len, f);
	fclose(f);
	LLVMFuzzerTestOneInput(data, got);
	free(data);
	printf("ok %d - %s\n", ++n, path);
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	struct dirent **ents;
	int k = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < k; i++) {
		if (ents[i]->d_name[0] != '.') {
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", path, ents[i]->d_name);
			run_path(p);
		}
		free(ents[i]);
	}
	free(ents);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("1..%d\n", n);
	return 0;
}
