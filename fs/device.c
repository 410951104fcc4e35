/* device.c - (being written) */
