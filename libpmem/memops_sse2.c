/* memops_sse2.c - (being written) */
