/* msync.c - (being written) */
