/*
 * header_both.c - our libpmem.h and PMDK's in one translation unit.  C
 * allows redeclaring a function only with a compatible type, and
 * redefining a macro only with the same replacement list; with -Werror a
 * difference in any prototype or constant stops this file compiling.
 */
#include "libpmem.h"
#undef LIBPMEM_H
#include "/usr/include/libpmem.h"

#include "header_constants.h"

/* Referenced from header_main.c so the file is linked, not just built. */
int header_both_compiled(void)
{
	return PMEM_F_MEM_VALID_FLAGS == 0x3f;
}
