/* journal.c - (being written) */
