/* map_file.c - (being written) */
