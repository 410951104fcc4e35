/* icache.c - (being written) */
