/* init.c - (being written) */
