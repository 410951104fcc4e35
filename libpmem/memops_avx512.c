/* memops_avx512.c - (being written) */
