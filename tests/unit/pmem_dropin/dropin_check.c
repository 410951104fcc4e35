/*
 * dropin_check.c - which libpmem.so.1 is really mapped in this process,
 * read from /proc/self/maps, and the temporary directories the drop-in
 * tests keep their pools in.
 */
#include "dropin_check.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libpmem.so, libpmem.so.1, libpmem.so.1.0.0 but not libpmemobj.so.1 */
static int is_libpmem_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "libpmem.so", strlen("libpmem.so")) == 0;
}

/* The path field of a /proc/self/maps line, or NULL for anonymous maps. */
static char *maps_line_path(char *line)
{
	char *path = strchr(line, '/');
	char *newline;

	if (!path)
		return NULL;
	newline = strchr(path, '\n');
	if (newline)
		*newline = '\0';
	return path;
}

int dropin_libpmem_is_ours(char *why, size_t why_len)
{
	const char *expect = getenv("PMEM_DROPIN_EXPECT");
	char expect_real[PATH_MAX];
	char found[PATH_MAX] = "", other[PATH_MAX] = "";
	char line[PATH_MAX + 256];
	int others = 0;
	FILE *maps;

	if (!expect) {
		snprintf(why, why_len,
			 "PMEM_DROPIN_EXPECT is not set: cannot tell which libpmem "
			 "is ours");
		return -1;
	}
	if (!realpath(expect, expect_real)) {
		snprintf(why, why_len, "%s: %s", expect, strerror(errno));
		return -1;
	}
	maps = fopen("/proc/self/maps", "r");
	if (!maps) {
		snprintf(why, why_len, "/proc/self/maps: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		char *path = maps_line_path(line);

		if (!path || !is_libpmem_path(path))
			continue;
		if (strcmp(path, expect_real) == 0)
			snprintf(found, sizeof(found), "%s", path);
		else if (others++ == 0)
			snprintf(other, sizeof(other), "%s", path);
	}
	fclose(maps);

	if (others > 0) {
		snprintf(why, why_len,
			 "expected only %s mapped, found %s (%d mapping(s) of others)", expect_real,
			 other, others);
		return -1;
	}
	if (found[0] == '\0') {
		snprintf(why, why_len, "expected %s mapped, found no libpmem.so in /proc/self/maps",
			 expect_real);
		return -1;
	}
	return 0;
}

int dropin_mapped_libpmem(char *buf, size_t len)
{
	char line[PATH_MAX + 256];
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = -1;

	if (!maps)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), maps)) {
		char *path = maps_line_path(line);

		if (path && is_libpmem_path(path)) {
			snprintf(buf, len, "%s", path);
			found = 0;
		}
	}
	fclose(maps);
	return found;
}

char *dropin_make_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (!tmp || tmp[0] == '\0')
		tmp = "/tmp";
	if (asprintf(&dir, "%s/pmem_dropin.XXXXXX", tmp) < 0)
		return NULL;
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

void dropin_remove_temp_dir(char *dir)
{
	struct dirent *entry;
	DIR *d;

	if (!dir)
		return;
	d = opendir(dir);
	if (d) {
		while ((entry = readdir(d))) {
			char *path;

			if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
				continue;
			if (asprintf(&path, "%s/%s", dir, entry->d_name) >= 0) {
				unlink(path);
				free(path);
			}
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}
