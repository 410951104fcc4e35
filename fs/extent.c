/* extent.c - (being written) */
