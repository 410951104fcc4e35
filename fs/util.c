/* util.c - (being written) */
