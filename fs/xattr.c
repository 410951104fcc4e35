/* xattr.c - (being written) */
