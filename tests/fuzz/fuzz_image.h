/*
 * fuzz_image.h - what the fuzz harnesses share: the small image geometry,
 * turning fuzz input bytes into an image file, and a bounded tree walk.
 */
#ifndef PMEMFS_FUZZ_IMAGE_H
#define PMEMFS_FUZZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pmemfs.h"

/* 64 blocks: super, state, 2 lanes x 6 blocks, 2 itable blocks (31
 * inodes), 1 bitmap block, 46 data blocks, backup super.  Lanes of 6
 * blocks: freeing blocks needs PMFS_EXTENT_EDIT_ROOM + 3 KiB of lane room
 * (extent.c); with less, unlink of a file with data never ends. */
#define FUZZ_IMAGE_SIZE (256u * 1024)
#define FUZZ_LANES 2u
#define FUZZ_LANE_BLOCKS 6u
#define FUZZ_INODES 32u

/* Formats 'path' with the fuzz geometry; 0 or a negative errno. */
int fuzz_mkfs(const char *path);

/*
 * Writes the image for one input: a freshly formatted image (made once per
 * process) with the first 'len' bytes replaced by 'data' (at most
 * FUZZ_IMAGE_SIZE).  For inputs of odd length the superblock and journal
 * lane checksums are then recomputed.  Returns the image path (per process, in /dev/shm), or
 * NULL if the file cannot be written.
 */
const char *fuzz_image_from(const uint8_t *data, size_t len);

/*
 * Visits at most 'budget' entries of the tree (depth at most 8): lookup,
 * getattr, read of whole files, readlink, listxattr and getxattr.  Errors
 * are expected on damaged images; only the absence of a crash counts.
 * Returns the number of entries seen.
 */
unsigned fuzz_walk(struct pmfs *fs, pmfs_ino_t dir, unsigned depth, unsigned budget);

#endif
