/* ranges.c - (being written) */
