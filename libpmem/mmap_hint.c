/* mmap_hint.c - (being written) */
