/*
 * header_pmdk.c - the constants as Debian's PMDK header defines them
 * (included by absolute path so our include directory cannot shadow it).
 */
#include "/usr/include/libpmem.h"

#include "header_constants.h"

void header_constants_pmdk(struct header_constants *c)
{
#include "header_constants.inc"
}
