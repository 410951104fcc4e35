/* super.c - (being written) */
