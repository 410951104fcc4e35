/* balloc.c - (being written) */
