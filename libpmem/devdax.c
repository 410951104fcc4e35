/* devdax.c - (being written) */
