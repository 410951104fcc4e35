/* attr.c - (being written) */
