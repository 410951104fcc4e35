/*
 * map_file.c - pmem_map_file(): what the path names, PMDK's rules for
 * flags and lengths, opening or creating the file, and undoing all of it
 * when a later step fails.  The mapping itself is map_fd.c's.
 *
 * Rules (PMDK 1.12 pmem_map_file(3) and src/libpmem/pmem.c), in order:
 *   - the path is stat()ed first; an error other than ENOENT is returned;
 *     a character device that is not device DAX, or anything but a regular
 *     file, a directory (TMPFILE) or a devdax, is EINVAL;
 *   - flags outside CREATE|EXCL|SPARSE|TMPFILE: EINVAL;
 *   - devdax: flags other than CREATE|SPARSE are EINVAL, len must be 0 or
 *     the device's size (EINVAL), then flags are ignored and the whole
 *     device is mapped;
 *   - CREATE with len not fitting off_t, len != 0 without CREATE, len == 0
 *     with CREATE, TMPFILE without CREATE: EINVAL;
 *   - CREATE sets the file's size to len (extending or truncating it) and,
 *     unless SPARSE, allocates it with posix_fallocate (ENOSPC etc.);
 *   - without CREATE the whole file is mapped.
 * Where PMDK leaves a file it created behind on failure unless EXCL was
 * given, we know whether we created it (O_EXCL first) and always unlink it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "pmemfs_direct.h"

#define ALL_FLAGS (PMEM_FILE_CREATE | PMEM_FILE_EXCL | PMEM_FILE_SPARSE | PMEM_FILE_TMPFILE)
#define DEVDAX_FLAGS (PMEM_FILE_CREATE | PMEM_FILE_SPARSE)
#define OPEN_RACE_TRIES 16

enum target_kind { TARGET_ABSENT, TARGET_NORMAL, TARGET_DEVDAX };

struct target {
	enum target_kind kind;
	dev_t rdev;		   /* TARGET_DEVDAX: which device */
	struct pmem_devdax devdax; /* TARGET_DEVDAX: its geometry */
};

struct opened_file {
	int fd;
	bool created; /* we made the name: unlink it if mapping fails */
};

static int classify_path(const char *path, struct target *target)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			target->kind = TARGET_ABSENT;
			return 0;
		}
		pmem_err("stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		target->kind = TARGET_NORMAL;
		return 0;
	}
	int is_devdax = pmem_devdax_from_stat(&st, &target->devdax);
	if (is_devdax < 0)
		return -1;
	if (is_devdax == 0) {
		errno = EINVAL;
		pmem_err("%s: file type %#o not supported (neither a file nor device DAX)", path,
			 (unsigned)(st.st_mode & S_IFMT));
		return -1;
	}
	target->kind = TARGET_DEVDAX;
	target->rdev = st.st_rdev;
	return 0;
}

static int invalid(const char *why)
{
	errno = EINVAL;
	pmem_err("%s", why);
	return -1;
}

/* Applies PMDK's flag and length rules; for devdax, rewrites len and flags
 * to "whole device, no flags". */
static int check_flags(const struct target *target, size_t *len, int *flags)
{
	if (*flags & ~ALL_FLAGS) {
		errno = EINVAL;
		pmem_err("invalid flag specified %#x", (unsigned)*flags);
		return -1;
	}
	if (target->kind == TARGET_DEVDAX) {
		if (*flags & ~DEVDAX_FLAGS) {
			errno = EINVAL;
			pmem_err("flag unsupported for Device DAX %#x", (unsigned)*flags);
			return -1;
		}
		if (*len != 0 && *len != target->devdax.size) {
			errno = EINVAL;
			pmem_err("Device DAX length must be either 0 or the exact size of the "
				 "device: %zu",
				 target->devdax.size);
			return -1;
		}
		*flags = 0;
		*len = 0;
	}
	if ((*flags & PMEM_FILE_CREATE) && (off_t)*len < 0)
		return invalid("invalid file length: does not fit off_t");
	if (*len != 0 && !(*flags & PMEM_FILE_CREATE))
		return invalid("non-zero 'len' not allowed without PMEM_FILE_CREATE");
	if (*len == 0 && (*flags & PMEM_FILE_CREATE))
		return invalid("zero 'len' not allowed with PMEM_FILE_CREATE");
	if ((*flags & PMEM_FILE_TMPFILE) && !(*flags & PMEM_FILE_CREATE))
		return invalid("PMEM_FILE_TMPFILE not allowed without PMEM_FILE_CREATE");
	return 0;
}

/* An unnamed file in directory dir: O_TMPFILE, or where the file system
 * lacks it, mkstemp() and unlink() as PMDK's util_tmpfile does. */
static int open_tmpfile(const char *dir, int flags)
{
	int excl = (flags & PMEM_FILE_EXCL) ? O_EXCL : 0;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | excl, S_IRUSR | S_IWUSR);
	if (fd >= 0 || errno != EOPNOTSUPP) {
		if (fd < 0)
			pmem_err("open %s (O_TMPFILE): %s", dir, strerror(errno));
		return fd;
	}

	size_t dir_len = strlen(dir);
	char *name = malloc(dir_len + sizeof("/pmem.XXXXXX"));
	if (name == NULL) {
		pmem_err("tmpfile in %s: out of memory", dir);
		return -1;
	}
	memcpy(name, dir, dir_len);
	strcpy(name + dir_len, "/pmem.XXXXXX");
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0)
		pmem_err("mkstemp %s: %s", name, strerror(errno));
	else
		unlink(name);
	free(name);
	return fd;
}

/* Opens path read-write; with CREATE, creates it first if it is absent and
 * remembers that it did.  A name deleted or created between our two opens
 * makes us try again. */
static int open_named(const char *path, int flags, mode_t mode, struct opened_file *file)
{
	const int base = O_RDWR | O_CLOEXEC;
	file->created = false;
	for (int try = 0; try < OPEN_RACE_TRIES; try++) {
		if (flags & PMEM_FILE_CREATE) {
			file->fd = open(path, base | O_CREAT | O_EXCL, mode);
			if (file->fd >= 0) {
				file->created = true;
				return 0;
			}
			if (errno != EEXIST || (flags & PMEM_FILE_EXCL))
				goto fail;
		}
		file->fd = open(path, base);
		if (file->fd >= 0)
			return 0;
		if (errno != ENOENT || !(flags & PMEM_FILE_CREATE))
			goto fail;
	}
	/* EEXIST then ENOENT every time: a dangling symlink, whose target
	 * O_CREAT without O_EXCL creates (as PMDK would).  We cannot tell
	 * whether we made it, so it is not unlinked on failure. */
	if (flags & PMEM_FILE_CREATE) {
		file->fd = open(path, base | O_CREAT, mode);
		if (file->fd >= 0)
			return 0;
	}
fail:
	pmem_err("open %s: %s", path, strerror(errno));
	return -1;
}

static int open_target(const char *path, int flags, mode_t mode, struct opened_file *file)
{
	if (flags & PMEM_FILE_TMPFILE) {
		file->created = false; /* nothing to unlink: it has no name */
		file->fd = open_tmpfile(path, flags);
		return file->fd < 0 ? -1 : 0;
	}
	return open_named(path, flags, mode, file);
}

/* The stat() of the path and the open() are two looks at the name; make
 * sure both saw the same kind of thing before trusting the first. */
static int check_opened(const struct target *target, const struct stat *st)
{
	if (target->kind == TARGET_DEVDAX) {
		if (!S_ISCHR(st->st_mode) || st->st_rdev != target->rdev)
			return invalid("the device DAX changed while it was being opened");
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return invalid("not a regular file (it changed while it was being opened)");
	return 0;
}

/* CREATE: give the file exactly len bytes, allocated unless SPARSE.  Else
 * learn its length (the device's, or the file's). */
static int size_file(const struct target *target, const struct opened_file *file, int flags,
		     size_t *len)
{
	struct stat st;
	if (fstat(file->fd, &st) < 0) {
		pmem_err("fstat: %s", strerror(errno));
		return -1;
	}
	if (check_opened(target, &st) < 0)
		return -1;
	if (target->kind == TARGET_DEVDAX) {
		*len = target->devdax.size;
		return 0;
	}
	if (flags & PMEM_FILE_CREATE) {
		if (ftruncate(file->fd, (off_t)*len) < 0) {
			pmem_err("ftruncate to %zu bytes: %s", *len, strerror(errno));
			return -1;
		}
		if (flags & PMEM_FILE_SPARSE)
			return 0;
		int error = posix_fallocate(file->fd, 0, (off_t)*len);
		if (error != 0) {
			errno = error;
			pmem_err("posix_fallocate of %zu bytes: %s", *len, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (st.st_size <= 0)
		return invalid("the file is empty: nothing to map");
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * Maps an opened, sized file.  A file inside a pmemfs mount is first
 * offered to the daemon's direct-map ioctl (map the device extents,
 * pmemfs_direct.c); whatever that path cannot honour falls through to the
 * generic mapping below.
 */
static void *map_opened_file(const struct target *target, const struct opened_file *file,
			     size_t len)
{
	if (target->kind != TARGET_DEVDAX) {
		void *addr = pmem_pmemfs_map(file->fd, len);
		if (addr != NULL)
			return addr;
	}
	return pmem_map_fd(file->fd, len, target->kind == TARGET_DEVDAX ? &target->devdax : NULL);
}

PMEM_EXPORT void *pmem_map_file(const char *path, size_t len, int flags, mode_t mode,
				size_t *mapped_lenp, int *is_pmemp)
{
	pmem_log(3, "path \"%s\" size %zu flags %#x mode %o", path ? path : "(null)", len,
		 (unsigned)flags, (unsigned)mode);
	if (path == NULL) {
		invalid("invalid (NULL) path");
		return NULL;
	}
	struct target target;
	if (classify_path(path, &target) < 0 || check_flags(&target, &len, &flags) < 0)
		return NULL;

	struct opened_file file;
	if (open_target(path, flags, mode, &file) < 0)
		return NULL;

	void *addr = NULL;
	if (size_file(&target, &file, flags, &len) == 0)
		addr = map_opened_file(&target, &file, len);

	int saved_errno = errno;
	close(file.fd);
	if (addr == NULL) {
		if (file.created)
			unlink(path);
		errno = saved_errno;
		return NULL;
	}
	if (mapped_lenp != NULL)
		*mapped_lenp = len;
	if (is_pmemp != NULL)
		*is_pmemp = pmem_is_pmem(addr, len);
	errno = saved_errno;
	return addr;
}
