/*
 * test_util.c - scratch directories, files, symlinks and tree removal for
 * the pmem_map unit tests.  Failures here are test-setup failures and end
 * the test through cmocka's fail_msg().
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

char *scratch_dir(const char *base, const char *tag)
{
	char *path = malloc(PATH_MAX);
	assert_non_null(path);
	snprintf(path, PATH_MAX, "%s/pmem_map-%s-XXXXXX", base, tag);
	if (mkdtemp(path) == NULL)
		fail_msg("mkdtemp %s: %s", path, strerror(errno));
	return path;
}

char *path_join(const char *dir, const char *name)
{
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	assert_non_null(path);
	snprintf(path, size, "%s/%s", dir, name);
	return path;
}

void make_dirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *slash = buf + 1; *slash != '\0'; slash++) {
		if (*slash != '/')
			continue;
		*slash = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*slash = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", buf, strerror(errno));
}

static void make_parent_dirs(const char *path)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		make_dirs(parent);
	}
}

void write_text(const char *path, const char *text)
{
	make_parent_dirs(path);
	FILE *file = fopen(path, "w");
	if (file == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	fputs(text, file);
	fclose(file);
}

void make_symlink(const char *target, const char *link)
{
	make_parent_dirs(link);
	if (symlink(target, link) < 0)
		fail_msg("symlink %s -> %s: %s", link, target, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool dir_is_empty(const char *dir)
{
	DIR *handle = opendir(dir);
	assert_non_null(handle);
	struct dirent *entry;
	bool empty = true;
	while ((entry = readdir(handle)) != NULL) {
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			empty = false;
	}
	closedir(handle);
	return empty;
}

long long file_blocks(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	return (long long)st.st_blocks;
}
