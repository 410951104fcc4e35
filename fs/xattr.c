/*
 * xattr.c - extended attributes in the "user.", "trusted." and "security."
 * namespaces, all of an inode's in one block (struct pmfs_xattr_entry
 * packed from offset 0, unaligned, a zero ns byte or the block's end
 * terminating the list).
 *
 * Limit: the entries of one inode share 4096 bytes; each takes 4 + name +
 * value bytes.  An entry that could never fit gives -E2BIG, one that does
 * not fit beside the others -ENOSPC.  "user." attributes are only allowed
 * on regular files and directories (-EPERM otherwise), as in Linux.
 *
 * Every change is copy-on-write: the new block is built in DRAM, written to
 * a freshly allocated block with plain persistent stores and fenced; then
 * one tx points the inode at it and frees the old block.  A crash before
 * the commit leaves the old block in place and the new one free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fault.h"
#include "icache.h"
#include "persist.h"

#define XBS PMFS_BLOCK_SIZE
#define XHDR 4u

static const struct {
	const char *prefix;
	size_t len;
	uint8_t ns;
} namespaces[] = {
    {"user.", 5, PMFS_XATTR_USER},
    {"trusted.", 8, PMFS_XATTR_TRUSTED},
    {"security.", 9, PMFS_XATTR_SECURITY},
};

static int parse_name(const char *name, uint8_t *ns, const char **suffix, size_t *slen)
{
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		if (strncmp(name, namespaces[i].prefix, namespaces[i].len) == 0) {
			*ns = namespaces[i].ns;
			*suffix = name + namespaces[i].len;
			*slen = strnlen(*suffix, 256);
			if (*slen == 0)
				return -EINVAL;
			if (*slen > 255)
				return -ERANGE;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

static const char *ns_prefix(uint8_t ns, size_t *len)
{
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		if (namespaces[i].ns == ns) {
			*len = namespaces[i].len;
			return namespaces[i].prefix;
		}
	}
	return NULL;
}

struct xent {
	uint8_t ns, name_len;
	uint16_t value_len;
	size_t off; /* of the header within the block */
};

/* Next entry at *pos, or false at the end (or on a malformed entry). */
static bool next_entry(const char *blk, size_t *pos, struct xent *e)
{
	struct pmfs_xattr_entry h;

	if (*pos + XHDR > XBS)
		return false;
	memcpy(&h, blk + *pos, XHDR);
	if (h.ns == 0 || *pos + XHDR + h.name_len + h.value_len > XBS)
		return false;
	e->ns = h.ns;
	e->name_len = h.name_len;
	e->value_len = h.value_len;
	e->off = *pos;
	*pos += XHDR + h.name_len + h.value_len;
	return true;
}

static bool find_entry(const char *blk, uint8_t ns, const char *name, size_t len, struct xent *out)
{
	size_t pos = 0;
	struct xent e;

	while (next_entry(blk, &pos, &e)) {
		if (e.ns == ns && e.name_len == len && memcmp(blk + e.off + XHDR, name, len) == 0) {
			*out = e;
			return true;
		}
	}
	return false;
}

static size_t used_bytes(const char *blk)
{
	size_t pos = 0;
	struct xent e;

	while (next_entry(blk, &pos, &e))
		;
	return pos;
}

/* Writes 'nb' (used bytes) as the inode's new xattr block, or none. */
static int xattr_switch(struct pmfs *fs, pmfs_ino_t ino, const char *nb, size_t used)
{
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	struct pmfs_inode si;
	uint64_t pblk = 0, got, old;
	int err = 0;

	pmfs_inode_stage(fs, ino, &si);
	old = si.xattr_block;
	if (used) {
		err = pmfs_balloc(fs, tx, old, 1, 1, 1, &pblk, &got);
		if (err)
			goto fail;
		pm_copy(pmfs_block(fs, pblk), nb, used);
		if (used < XBS)
			pm_set((char *)pmfs_block(fs, pblk) + used, 0, XBS - used);
		pm_fence(); /* the new block is on media before the switch */
		si.blocks++;
	}
	if (old) {
		err = pmfs_bfree(fs, tx, old, 1);
		if (err)
			goto fail;
		si.blocks--;
	}
	si.xattr_block = pblk;
	pmfs_touch_c(&si);
	err = pmfs_inode_log(fs, tx, ino, &si);
	if (err)
		goto fail;
	return pmfs_tx_commit(tx);
fail:
	pmfs_tx_abort(tx);
	return err;
}

/* The inode's xattr block, 0 if none, or -EIO if it points outside the
 * data area (a damaged image gives errors, not wild reads). */
static int64_t xattr_block_of(struct pmfs *fs, pmfs_ino_t ino)
{
	uint64_t xb = pmfs_inode_get(fs, ino)->xattr_block;

	if (xb && (xb < fs->sb->data_start || xb >= fs->sb->total_blocks - 1))
		return -EIO;
	return (int64_t)xb;
}

static int load_block(struct pmfs *fs, pmfs_ino_t ino, char *blk)
{
	int64_t xb = xattr_block_of(fs, ino);

	if (xb < 0)
		return (int)xb;
	if (xb)
		memcpy(blk, pmfs_block(fs, (uint64_t)xb), XBS);
	else
		memset(blk, 0, XBS);
	return 0;
}

int pmfs_setxattr(struct pmfs *fs, pmfs_ino_t ino, const char *name, const void *value, size_t size,
		  int flags)
{
	struct pmfs_node *node;
	const char *suffix;
	struct xent e;
	size_t slen, used;
	uint8_t ns;
	char *blk;
	bool exists;
	int err;

	if (fs->read_only)
		return -EROFS;
	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	err = parse_name(name, &ns, &suffix, &slen);
	if (err)
		return err;
	if (XHDR + slen + size > XBS)
		return -E2BIG;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	blk = pmfs_malloc(XBS);
	if (!blk) {
		pmfs_iput(fs, node);
		return -ENOMEM;
	}
	pmfs_node_wrlock(node);
	uint32_t mode = pmfs_inode_get(fs, ino)->mode;

	if (ns == PMFS_XATTR_USER && !S_ISREG(mode) && !S_ISDIR(mode)) {
		err = -EPERM;
		goto out;
	}
	err = load_block(fs, ino, blk);
	if (err)
		goto out;
	exists = find_entry(blk, ns, suffix, slen, &e);
	if (exists && (flags & XATTR_CREATE)) {
		err = -EEXIST;
		goto out;
	}
	if (!exists && (flags & XATTR_REPLACE)) {
		err = -ENODATA;
		goto out;
	}
	used = used_bytes(blk);
	if (exists) {
		size_t elen = XHDR + e.name_len + e.value_len;

		memmove(blk + e.off, blk + e.off + elen, used - e.off - elen);
		used -= elen;
		memset(blk + used, 0, XBS - used);
	}
	if (used + XHDR + slen + size > XBS) {
		err = -ENOSPC;
		goto out;
	}
	struct pmfs_xattr_entry h = {ns, (uint8_t)slen, (uint16_t)size};

	memcpy(blk + used, &h, XHDR);
	memcpy(blk + used + XHDR, suffix, slen);
	memcpy(blk + used + XHDR + slen, value, size);
	used += XHDR + slen + size;
	err = xattr_switch(fs, ino, blk, used);
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	free(blk);
	return err;
}

ssize_t pmfs_getxattr(struct pmfs *fs, pmfs_ino_t ino, const char *name, void *buf, size_t size)
{
	struct pmfs_node *node;
	const char *suffix;
	struct xent e;
	size_t slen;
	uint8_t ns;
	ssize_t ret;
	int64_t xb;
	int err = parse_name(name, &ns, &suffix, &slen);

	if (err)
		return err;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	pmfs_node_rdlock(node);
	xb = xattr_block_of(fs, ino);
	if (xb < 0) {
		ret = xb;
	} else if (!xb || !find_entry(pmfs_block(fs, (uint64_t)xb), ns, suffix, slen, &e)) {
		ret = -ENODATA;
	} else if (size == 0) {
		ret = e.value_len;
	} else if (size < e.value_len) {
		ret = -ERANGE;
	} else {
		memcpy(buf, (char *)pmfs_block(fs, (uint64_t)xb) + e.off + XHDR + e.name_len,
		       e.value_len);
		ret = e.value_len;
	}
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return ret;
}

ssize_t pmfs_listxattr(struct pmfs *fs, pmfs_ino_t ino, char *buf, size_t size)
{
	struct pmfs_node *node;
	size_t need = 0, pos = 0;
	struct xent e;
	const char *blk;
	int64_t xb;
	ssize_t ret;
	int err = pmfs_iget(fs, ino, &node);

	if (err)
		return err;
	pmfs_node_rdlock(node);
	xb = xattr_block_of(fs, ino);
	if (xb < 0) {
		pmfs_node_unlock(node);
		pmfs_iput(fs, node);
		return xb;
	}
	blk = xb ? pmfs_block(fs, (uint64_t)xb) : NULL;
	while (blk && next_entry(blk, &pos, &e)) {
		size_t plen;

		if (ns_prefix(e.ns, &plen))
			need += plen + e.name_len + 1;
	}
	if (size == 0) {
		ret = (ssize_t)need;
	} else if (size < need) {
		ret = -ERANGE;
	} else {
		size_t out = 0;

		pos = 0;
		while (blk && next_entry(blk, &pos, &e)) {
			size_t plen;
			const char *p = ns_prefix(e.ns, &plen);

			if (!p)
				continue;
			memcpy(buf + out, p, plen);
			memcpy(buf + out + plen, blk + e.off + XHDR, e.name_len);
			out += plen + e.name_len;
			buf[out++] = '\0';
		}
		ret = (ssize_t)out;
	}
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	return ret;
}

/*
 * A write takes the file's capability away, as Linux's file_remove_privs
 * does for every writer, root included.  Through the page cache the
 * kernel removes it itself (a REMOVEXATTR before the first WRITE); a
 * direct write (FOPEN_DIRECT_IO) leaves it to the file system under
 * FUSE_HANDLE_KILLPRIV_V2, so every write checks.  Most files have no
 * xattr block: one load, under the caller's reference to the node (the
 * pointer is read unlocked; a setxattr racing with the write may land
 * either side of it, as with the kernel's check).  Otherwise the block is
 * searched under the read lock and only a capability found is removed
 * (its own tx).  The caller must not hold the node's lock.
 *
 * Crash: the removal commits before the write's data, as the kernel's
 * order is; a crash between leaves the file without its capability and
 * without the new data, never the new data with the old capability.
 */
int pmfs_kill_capability(struct pmfs *fs, struct pmfs_node *node)
{
	static const char cap[] = "capability";
	const struct pmfs_inode *di = pmfs_inode_get(fs, node->ino);
	struct xent e;
	int64_t xb;
	bool found;
	int err;

	/* the type never changes; a write to anything else fails after this */
	if (!S_ISREG(di->mode) || !di->xattr_block)
		return 0;
	pmfs_node_rdlock(node);
	xb = xattr_block_of(fs, node->ino);
	found = xb > 0 && find_entry(pmfs_block(fs, (uint64_t)xb), PMFS_XATTR_SECURITY, cap,
				     sizeof(cap) - 1, &e);
	pmfs_node_unlock(node);
	if (xb < 0)
		return (int)xb;
	if (!found)
		return 0;
	err = pmfs_removexattr(fs, node->ino, "security.capability");
	return err == -ENODATA ? 0 : err; /* another writer took it first */
}

int pmfs_removexattr(struct pmfs *fs, pmfs_ino_t ino, const char *name)
{
	struct pmfs_node *node;
	const char *suffix;
	struct xent e;
	size_t slen, used, elen;
	uint8_t ns;
	char *blk;
	int err;

	if (fs->read_only)
		return -EROFS;
	err = parse_name(name, &ns, &suffix, &slen);
	if (err)
		return err;
	err = pmfs_iget(fs, ino, &node);
	if (err)
		return err;
	blk = pmfs_malloc(XBS);
	if (!blk) {
		pmfs_iput(fs, node);
		return -ENOMEM;
	}
	pmfs_node_wrlock(node);
	err = load_block(fs, ino, blk);
	if (err)
		goto out;
	if (!find_entry(blk, ns, suffix, slen, &e)) {
		err = -ENODATA;
		goto out;
	}
	used = used_bytes(blk);
	elen = XHDR + e.name_len + e.value_len;
	memmove(blk + e.off, blk + e.off + elen, used - e.off - elen);
	used -= elen;
	memset(blk + used, 0, XBS - used);
	err = xattr_switch(fs, ino, blk, used);
out:
	pmfs_node_unlock(node);
	pmfs_iput(fs, node);
	free(blk);
	return err;
}
