/* namei.c - (being written) */
