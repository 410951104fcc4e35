/*
 * libpath.c - which libpmem.so.1 the loader mapped into this process, so
 * each benchmark row can be traced to the library that produced it.
 */
#include "pmembench.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

int mapped_libpmem_path(char *buf, size_t len)
{
	char line[PATH_MAX + 256];
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = -1;

	if (!maps)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');
		const char *base;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		base = strrchr(path, '/') + 1;
		if (strncmp(base, "libpmem.so", strlen("libpmem.so")) == 0) {
			snprintf(buf, len, "%s", path);
			found = 0;
		}
	}
	fclose(maps);
	return found;
}
