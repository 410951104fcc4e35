/* ialloc.c - (being written) */
