/*
 * super.c - mount, unmount and statfs: the recovery driver.
 *
 * Mount: open and lock the device, map it, choose a valid superblock
 * (primary, else backup), replay the journal (always: it is cheap when
 * empty), build the allocators' DRAM state, clear the clean flag through the
 * journal before anything else can change the fs, then let the namespace
 * layer start its inode cache and free the orphans a crash left behind.
 * Unmount runs it backwards and sets the clean flag last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "badblocks.h"
#include "dmap.h"
#include "internal.h"
#include "persist.h"

static void release(struct pmfs *fs)
{
	pmfs_ialloc_fini(fs);
	pmfs_balloc_fini(fs);
	pmfs_journal_fini(fs);
	pmfs_badblocks_unmount(fs);
	if (fs->base)
		pmfs_device_unmap(fs->base, fs->size);
	if (fs->dev_fd >= 0)
		close(fs->dev_fd);
	pthread_mutex_destroy(&fs->orphan_lock);
	free(fs->dev_path);
	free(fs);
}

/* Both copies hold the same bytes; restoring the primary needs no journal. */
static void restore_primary(struct pmfs *fs)
{
	pm_copy(fs->base, &fs->sb_copy, sizeof(fs->sb_copy));
	pm_fence();
	pmfs_logf(fs, PMFS_LOG_WARN, "primary superblock restored from the backup");
}

static int load_super(struct pmfs *fs)
{
	char why[200];
	int err;

	err = pmfs_super_read(fs->base, fs->size, &fs->sb_copy, &fs->used_backup_sb, why,
			      sizeof(why));
	if (err) {
		pmfs_logf(fs, PMFS_LOG_ERR, "%s: no valid pmemfs superblock: %s", fs->dev_path,
			  why);
		return err;
	}
	fs->sb = &fs->sb_copy;
	if (fs->used_backup_sb) {
		pmfs_logf(fs, PMFS_LOG_WARN,
			  "%s: primary superblock invalid (%s); using the backup", fs->dev_path,
			  why);
		if (!fs->read_only)
			restore_primary(fs);
	}
	if ((fs->sb->feature_ro_compat & ~PMFS_FEATURE_RO_COMPAT_SUPP) && !fs->read_only) {
		pmfs_logf(fs, PMFS_LOG_ERR,
			  "%s: unknown read-only-compatible features 0x%llx: mount read-only",
			  fs->dev_path, (unsigned long long)fs->sb->feature_ro_compat);
		return -EROFS;
	}
	fs->state = pmfs_block(fs, PMFS_STATE_BLOCK);
	fs->itable = pmfs_block(fs, fs->sb->itable_start);
	fs->bitmap = pmfs_block(fs, fs->sb->bitmap_start);
	return 0;
}

/* One transaction sets clean (and counts the mount or records the time). */
static int set_clean(struct pmfs *fs, bool clean)
{
	struct pmfs_state st;
	struct pmfs_tx *tx = pmfs_tx_begin(fs);
	int err;

	if (tx == NULL)
		return -EROFS;
	memcpy(&st, fs->state, sizeof(st));
	st.clean = clean;
	if (clean) {
		st.last_unmount_time = time(NULL);
	} else {
		st.mount_count++;
		st.last_mount_time = time(NULL);
	}
	err = pmfs_tx_set(tx, &fs->state->clean, &st.clean, sizeof(st.clean));
	if (!err)
		err = pmfs_tx_set(tx, &fs->state->mount_count, &st.mount_count,
				  sizeof(st.mount_count) + 2 * sizeof(int64_t));
	if (err) {
		pmfs_tx_abort(tx);
		return err;
	}
	return pmfs_tx_commit(tx);
}

int pmfs_mount(const char *device, const struct pmfs_mount_opts *opts, struct pmfs **fsp,
	       struct pmfs_mount_info *info)
{
	static const struct pmfs_mount_opts defaults;
	struct pmfs *fs = calloc(1, sizeof(*fs));
	unsigned replayed = 0, freed = 0;
	bool was_clean;
	int err;

	if (opts == NULL)
		opts = &defaults;
	if (fs == NULL)
		return -ENOMEM;
	fs->dev_fd = -1;
	fs->read_only = opts->read_only;
	fs->log = opts->log;
	fs->log_ctx = opts->log_ctx;
	pthread_mutex_init(&fs->orphan_lock, NULL);
	fs->dev_path = strdup(device);
	if (fs->dev_path == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	err = pmfs_device_open_wait(device, fs->read_only, opts->busy_wait_ms, &fs->dev_fd,
				    &fs->dev_info);
	if (err) {
		pmfs_logf(fs, PMFS_LOG_ERR, "%s: %s", device, pmfs_device_strerror(err));
		goto fail;
	}
	fs->size = fs->dev_info.size;
	fs->is_devdax = fs->dev_info.is_devdax;
	err = pmfs_device_map(fs->dev_fd, &fs->dev_info, fs->read_only, &fs->base, &fs->is_pmem);
	if (err) {
		fs->base = NULL;
		pmfs_logf(fs, PMFS_LOG_ERR, "%s: cannot map: %s", device, strerror(-err));
		goto fail;
	}
	/* mount only: mkfs and fsck map the device too, briefly */
	pmfs_device_populate(fs->dev_fd, &fs->dev_info, fs->base, fs->read_only);
	err = load_super(fs);
	if (err)
		goto fail;
	/* before anything reads metadata past the superblock */
	err = pmfs_badblocks_mount(fs);
	if (err)
		goto fail;
	was_clean = fs->state->clean == 1;
	err = pmfs_journal_init(fs);
	if (!err)
		err = pmfs_journal_recover(fs, &replayed);
	if (!err)
		err = pmfs_balloc_init(fs);
	if (!err)
		err = pmfs_ialloc_init(fs);
	if (!err)
		err = pmfs_badblocks_check_inodes(fs);
	if (!err && !fs->read_only)
		err = set_clean(fs, false);
	if (err)
		goto fail;
	err = pmfs_icache_init(fs);
	if (err)
		goto fail;
	if (!fs->read_only) {
		err = pmfs_orphans_recover(fs, &freed);
		if (err) {
			pmfs_icache_fini(fs);
			goto fail;
		}
	}
	if (info) {
		memset(info, 0, sizeof(*info));
		info->was_clean = was_clean;
		info->journal_replayed = replayed;
		info->orphans_freed = freed;
		info->device_size = fs->size;
		info->device_align = fs->is_devdax ? fs->dev_info.align : fs->sb->device_align;
		info->is_devdax = fs->is_devdax;
	}
	pmfs_logf(
	    fs, PMFS_LOG_INFO,
	    "%s: mounted %s (%s, %llu blocks; %s; %u transactions replayed, %u orphans freed)",
	    device, fs->read_only ? "read-only" : "read-write", fs->is_devdax ? "devdax" : "file",
	    (unsigned long long)fs->sb->total_blocks, was_clean ? "clean" : "not clean", replayed,
	    freed);
	*fsp = fs;
	return 0;
fail:
	release(fs);
	return err;
}

int pmfs_unmount(struct pmfs *fs)
{
	int err;

	/* before the evictions: what a live direct map still uses stays */
	pmfs_dmap_restore_stop(fs);
	err = pmfs_icache_evict_all(fs);

	/* The clean flag means: nothing for recovery to do.  It is set only
	 * when every orphan was freed (but those a live direct map may still
	 * use, which the next mount keeps again: docs/DIRECT-MAP.md) and
	 * every tx committed before it. */
	if (!fs->read_only) {
		if (err == 0)
			err = set_clean(fs, true);
		else
			pmfs_logf(fs, PMFS_LOG_ERR,
				  "unmount: freeing inodes failed (%d); "
				  "leaving the fs marked not clean",
				  err);
	}
	pmfs_icache_fini(fs);
	release(fs);
	return err;
}

int pmfs_statfs(struct pmfs *fs, struct statvfs *st)
{
	const struct pmfs_super *sb = fs->sb;
	uint64_t fsid = 0;

	memset(st, 0, sizeof(*st));
	memcpy(&fsid, sb->uuid, sizeof(fsid));
	st->f_bsize = PMFS_BLOCK_SIZE;
	st->f_frsize = PMFS_BLOCK_SIZE;
	st->f_blocks = sb->total_blocks - sb->data_start - 1; /* the data area */
	st->f_bfree = pmfs_free_blocks(fs);
	st->f_bavail = st->f_bfree;
	st->f_files = sb->inode_count - 1; /* slot 0 is never used */
	st->f_ffree = pmfs_free_inodes(fs);
	st->f_favail = st->f_ffree;
	st->f_fsid = (unsigned long)fsid;
	st->f_flag = fs->read_only ? ST_RDONLY : 0;
	st->f_namemax = PMFS_NAME_MAX;
	return 0;
}
