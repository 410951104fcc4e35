/* mkfs.c - (being written) */
