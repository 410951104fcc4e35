/*
 * fuzz_replay.c - runs a harness's LLVMFuzzerTestOneInput on files, without
 * libFuzzer: how the plain build replays the seed corpus and every
 * regression input.  Arguments are files or directories (their regular
 * files, sorted by name).  A crash or an abort in the harness fails the run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	printf("replay %s (%ld bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **list;
		int n;

		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]))
				return 1;
			count++;
			continue;
		}
		n = scandir(argv[i], &list, NULL, by_name);
		for (int k = 0; k < n; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], list[k]->d_name);
			if (list[k]->d_name[0] != '.' && strncmp(list[k]->d_name, "README", 6) &&
			    !stat(path, &st) && S_ISREG(st.st_mode)) {
				if (replay_file(path))
					return 1;
				count++;
			}
			free(list[k]);
		}
		free(list);
	}
	printf("replayed %u inputs\n", count);
	return count ? 0 : 1;
}
