/* libpmem.h - (being written) */
