/* fsck.c - (being written) */
