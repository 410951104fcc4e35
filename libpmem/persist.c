/* persist.c - (being written) */
