/*
 * pmemfs.h - the public API of the pmemfs file-system core.
 *
 * The core knows nothing about FUSE: the daemon (fs/fuse_*.c), mkfs, fsck and
 * the unit tests all drive it through this header.  Every function returns 0
 * (or a non-negative count) on success and a negative errno on failure.
 *
 * Inode lifetime follows the FUSE model: every call that hands out an inode
 * (lookup, create, mknod, mkdir, symlink, link, readdir with plus=true) takes
 * one reference on it; pmfs_forget() drops references.  An inode whose link
 * count reaches zero keeps its data until its last reference is dropped (it
 * sits on the persistent orphan list meanwhile; recovery frees orphans).
 *
 * Thread safety: all functions may be called concurrently.  Operations on
 * different files and directories do not serialise on one lock.
 */
#ifndef PMEMFS_H
#define PMEMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef uint64_t pmfs_ino_t;

#define PMFS_ROOT_INO 1
#define PMFS_NAME_MAX 255
#define PMFS_SYMLINK_MAX 4095

struct pmfs;

enum pmfs_log_level { PMFS_LOG_ERR = 3, PMFS_LOG_WARN = 4, PMFS_LOG_INFO = 6, PMFS_LOG_DEBUG = 7 };
typedef void (*pmfs_log_fn)(void *ctx, enum pmfs_log_level level, const char *msg);

struct pmfs_mount_opts {
	bool read_only;		/* refuse every modification with -EROFS */
	pmfs_log_fn log;	/* NULL: messages go nowhere */
	void *log_ctx;
	unsigned busy_wait_ms;	/* how long a device lock held by another user is retried */
};

/* What mount found and did; filled by pmfs_mount when info != NULL. */
struct pmfs_mount_info {
	bool was_clean;		      /* clean-unmount flag was set */
	unsigned journal_replayed;    /* committed transactions replayed */
	unsigned orphans_freed;	      /* unlinked inodes freed by recovery */
	uint64_t device_size;	      /* bytes */
	uint64_t device_align;	      /* bytes */
	bool is_devdax;
};

int pmfs_mount(const char *device, const struct pmfs_mount_opts *opts, struct pmfs **fsp,
	       struct pmfs_mount_info *info);
/* Frees remaining orphans, sets the clean flag, unmaps.  fs is freed. */
int pmfs_unmount(struct pmfs *fs);

int pmfs_statfs(struct pmfs *fs, struct statvfs *st);

/* Names are NUL-terminated; longer than PMFS_NAME_MAX gives -ENAMETOOLONG. */
int pmfs_lookup(struct pmfs *fs, pmfs_ino_t parent, const char *name, struct stat *st);
int pmfs_forget(struct pmfs *fs, pmfs_ino_t ino, uint64_t nlookup);
/* Whether unlinked inodes wait to be freed (referenced, or open). */
bool pmfs_orphans_pending(struct pmfs *fs);
int pmfs_getattr(struct pmfs *fs, pmfs_ino_t ino, struct stat *st);

/* Bits for pmfs_setattr's 'to_set'. */
#define PMFS_SET_MODE (1u << 0)
#define PMFS_SET_UID (1u << 1)
#define PMFS_SET_GID (1u << 2)
#define PMFS_SET_SIZE (1u << 3)
#define PMFS_SET_ATIME (1u << 4)     /* from st->st_atim */
#define PMFS_SET_MTIME (1u << 5)     /* from st->st_mtim */
#define PMFS_SET_ATIME_NOW (1u << 6)
#define PMFS_SET_MTIME_NOW (1u << 7)
#define PMFS_SET_CTIME (1u << 8)     /* from st->st_ctim */
/* Clear set-user-ID, and set-group-ID if group-execute is set (a write or
 * truncate by a caller without CAP_FSETID); an explicit mode wins. */
#define PMFS_SET_KILL_SUIDGID (1u << 9)
/* Applies the requested changes atomically, then fills *out (may be NULL). */
int pmfs_setattr(struct pmfs *fs, pmfs_ino_t ino, const struct stat *st, unsigned to_set,
		 struct stat *out);

/* Creation.  'mode' carries the file type bits (S_IFREG etc. where relevant).
 * The gid is the parent's if the parent directory is set-group-ID. */
int pmfs_create(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, uid_t uid,
		gid_t gid, struct stat *out);
int pmfs_mknod(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, dev_t rdev,
	       uid_t uid, gid_t gid, struct stat *out);
int pmfs_mkdir(struct pmfs *fs, pmfs_ino_t parent, const char *name, mode_t mode, uid_t uid,
	       gid_t gid, struct stat *out);
int pmfs_symlink(struct pmfs *fs, pmfs_ino_t parent, const char *name, const char *target,
		 uid_t uid, gid_t gid, struct stat *out);
/* Returns the target length (not NUL-terminated if it fills buf). */
ssize_t pmfs_readlink(struct pmfs *fs, pmfs_ino_t ino, char *buf, size_t size);
int pmfs_link(struct pmfs *fs, pmfs_ino_t ino, pmfs_ino_t newparent, const char *newname,
	      struct stat *out);
int pmfs_unlink(struct pmfs *fs, pmfs_ino_t parent, const char *name);
int pmfs_rmdir(struct pmfs *fs, pmfs_ino_t parent, const char *name);

#define PMFS_RENAME_NOREPLACE (1u << 0) /* same values as RENAME_* in <linux/fs.h> */
#define PMFS_RENAME_EXCHANGE (1u << 1)
int pmfs_rename(struct pmfs *fs, pmfs_ino_t parent, const char *name, pmfs_ino_t newparent,
		const char *newname, unsigned flags);

/*
 * readdir: emits ".", ".." and then the entries from offset 'off' on (0 is the
 * start).  Offsets are stable under concurrent insertion and deletion: an
 * entry keeps its offset for life, so telldir/seekdir work.  'fill' returns 0
 * to go on or 1 when its buffer is full (that entry is then not consumed and
 * will be emitted again from its offset).  With plus=true, 'st' is complete
 * and a reference is taken on each consumed entry other than "." and "..";
 * otherwise only st_ino and the S_IFMT bits of st_mode are valid.
 */
typedef int (*pmfs_filldir_fn)(void *ctx, const char *name, const struct stat *st,
			       uint64_t next_off);
int pmfs_readdir(struct pmfs *fs, pmfs_ino_t dir, uint64_t off, bool plus, pmfs_filldir_fn fill,
		 void *ctx);

/* Data.  Writes are durable when they return. */
ssize_t pmfs_read(struct pmfs *fs, pmfs_ino_t ino, void *buf, size_t len, off_t off);
/*
 * Zero-copy read: calls 'emit' once with an iovec array that points straight
 * into the device mapping (holes point at a shared zero buffer), while the
 * inode is read-locked so the blocks cannot be freed.  Returns what emit
 * returned, or a negative errno.  'emit' receives the byte count read, which
 * is short at end of file.
 */
typedef int (*pmfs_emit_fn)(void *ctx, const struct iovec *iov, int iovcnt, size_t bytes);
int pmfs_read_iter(struct pmfs *fs, pmfs_ino_t ino, size_t len, off_t off, pmfs_emit_fn emit,
		   void *ctx);
#define PMFS_WRITE_APPEND (1u << 0) /* write at end of file, atomically */
/* Clear set-ID bits as PMFS_SET_KILL_SUIDGID does, in the write's own tx. */
#define PMFS_WRITE_KILL_SUIDGID (1u << 1)
ssize_t pmfs_write(struct pmfs *fs, pmfs_ino_t ino, const void *buf, size_t len, off_t off,
		   unsigned flags);
/*
 * pmfs_write with the data from a stream instead of a buffer (the daemon's
 * pipe of spliced WRITE data).  'copy' puts the stream's next n bytes at
 * dst in the device mapping, flushed but not yet fenced (as pm_copy_nt
 * does); the write fences before it commits.  0 or a negative errno, which
 * ends the write (bytes already committed are still returned).
 */
struct pmfs_wsrc {
	int (*copy)(void *ctx, void *dst, size_t n);
	void *ctx;
};
ssize_t pmfs_write_src(struct pmfs *fs, pmfs_ino_t ino, const struct pmfs_wsrc *src, size_t len,
		       off_t off, unsigned flags);
/* mode: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE, FALLOC_FL_ZERO_RANGE[|KEEP_SIZE] */
int pmfs_fallocate(struct pmfs *fs, pmfs_ino_t ino, int mode, off_t off, off_t len);
/* whence: SEEK_DATA or SEEK_HOLE.  Returns the offset or -ENXIO. */
off_t pmfs_lseek(struct pmfs *fs, pmfs_ino_t ino, off_t off, int whence);
/* Everything is durable already; fsync only drains. */
int pmfs_fsync(struct pmfs *fs, pmfs_ino_t ino, bool datasync);
ssize_t pmfs_copy_file_range(struct pmfs *fs, pmfs_ino_t ino_in, off_t off_in,
			     pmfs_ino_t ino_out, off_t off_out, size_t len);

/* Extended attributes: "user.", "trusted." and "security." namespaces. */
int pmfs_setxattr(struct pmfs *fs, pmfs_ino_t ino, const char *name, const void *value,
		  size_t size, int flags /* XATTR_CREATE / XATTR_REPLACE */);
/* size 0: returns the size needed.  Too small: -ERANGE.  Missing: -ENODATA. */
ssize_t pmfs_getxattr(struct pmfs *fs, pmfs_ino_t ino, const char *name, void *buf, size_t size);
ssize_t pmfs_listxattr(struct pmfs *fs, pmfs_ino_t ino, char *buf, size_t size);
int pmfs_removexattr(struct pmfs *fs, pmfs_ino_t ino, const char *name);

#endif /* PMEMFS_H */
