/* memops_avx2.c - (being written) */
