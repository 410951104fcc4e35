/* memops_generic.c - (being written) */
