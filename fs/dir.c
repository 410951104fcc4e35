/* dir.c - (being written) */
