/*
 * dropin_check.h - proof for the drop-in tests that the libpmem.so.1 the
 * dynamic loader picked is ours and not Debian's: without it a passing
 * test could have run entirely on PMDK's library.
 */
#ifndef DROPIN_CHECK_H
#define DROPIN_CHECK_H

#include <stddef.h>

/*
 * Checks that exactly one libpmem.so.1 is mapped into this process and
 * that it is the file named by $PMEM_DROPIN_EXPECT (the build's libpmem).
 * Returns 0 when it is; otherwise writes what was expected and what was
 * found into why and returns -1.
 */
int dropin_libpmem_is_ours(char *why, size_t why_len);

/* The path of the (first) libpmem.so mapped in this process, from
 * /proc/self/maps, into buf; 0, or -1 when there is none. */
int dropin_mapped_libpmem(char *buf, size_t len);

/* A fresh private directory under $TMPDIR (or /tmp); NULL on failure. */
char *dropin_make_temp_dir(void);

/* Removes the files in dir and dir itself (one level, as the tests make). */
void dropin_remove_temp_dir(char *dir);

#endif /* DROPIN_CHECK_H */
