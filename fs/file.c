/* file.c - (being written) */
