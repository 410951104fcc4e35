/*
 * test_util.h - small file-system helpers shared by the pmem_map unit
 * tests: scratch directories, files and symlinks, and tree removal.
 */
#ifndef PMEM_MAP_TEST_UTIL_H
#define PMEM_MAP_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A fresh directory under base ("/tmp", "/dev/shm"); aborts the test on
 * failure.  Returns a malloc'ed path. */
char *scratch_dir(const char *base, const char *tag);
/* malloc'ed "dir/name". */
char *path_join(const char *dir, const char *name);
/* Creates every missing directory of path. */
void make_dirs(const char *path);
/* Writes text to path (creating parent directories). */
void write_text(const char *path, const char *text);
/* Creates link -> target (creating the link's parent directories). */
void make_symlink(const char *target, const char *link);
/* rm -rf path. */
void remove_tree(const char *path);
/* Does the directory hold any entry other than . and ..? */
bool dir_is_empty(const char *dir);
/* Size of a file in 512-byte blocks, as st_blocks. */
long long file_blocks(const char *path);

#endif
