/* cpu.c - (being written) */
