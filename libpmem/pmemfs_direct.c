/*
 * pmemfs_direct.c - direct maps of pmemfs files: map a range of a file
 * straight from the device instead of through FUSE (docs/DIRECT-MAP.md).
 * One implementation, pmem_pmemfs_map_range(), serves pmem_map_file()
 * (the whole file, anywhere) and libpmemfs-preload.so (any shared mmap()
 * of a pmemfs file: a range, at a hint or a fixed address, with or without
 * MAP_SYNC).
 *
 * Steps: the fd is on a FUSE mount (fstatfs) and the daemon answers the
 * PMFS_IOC_DMAP ioctl (fs/pmemfs_dmap_proto.h) with the device identity
 * and the extent list; we open the device ourselves (so the kernel, not
 * the daemon, decides whether we may), check it is the one the daemon
 * named, place the range (a fresh aligned reservation, or the caller's
 * address) and mmap each extent's piece of it there with MAP_FIXED |
 * MAP_SHARED (MAP_SYNC when the device takes it, or only MAP_SYNC when the
 * caller asked for it).
 *
 * Whatever goes wrong returns NULL before anything is visible to the
 * caller, with the grant released, and the caller then maps through FUSE
 * like any file (is_pmem 0, msync works): never silently wrong.
 *
 * A live direct map keeps two fds: a dup of the pmemfs fd (its grant
 * lives as long as that open file) and the device fd, and the pieces of
 * it still mapped.  On devdax a range not aligned to the device is mapped
 * as the aligned window around it, which the kernel cannot cut: unmapping
 * forgets pieces and the window goes whole with the last one.  When
 * nothing is left mapped both fds are closed (closing the pmemfs fd
 * releases the grant).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/pmemfs_dmap_proto.h"
#include "libpmem.h"
#include "pmem_internal.h"
#include "pmemfs_direct.h"

#define FUSE_SUPER_MAGIC 0x65735546

struct dmapping {
	uintptr_t start; /* the device mapping we made: [start, start + span) */
	size_t span;
	/* It is wider than the caller's range (devdax, a range not aligned to
	 * the device): the kernel cannot cut it there, so unmapping parts only
	 * forgets them and the whole goes with the last live piece. */
	bool window;
	struct piece {
		uintptr_t lo, hi;
	} * live;     /* what is still mapped: sorted, disjoint pieces */
	size_t nlive; /* 0: nothing left, the fds go */
	int file_fd, dev_fd;
	uint64_t grant;
};

static pthread_mutex_t Lock = PTHREAD_MUTEX_INITIALIZER;
static void cut_live(struct dmapping *m, uintptr_t s, uintptr_t e);
static int release_dead(struct dmapping *g, int (*unmap)(void *, size_t));
static struct dmapping *Maps;
static size_t Nmaps, Cap;
/* Nmaps, readable without the lock: the preload's munmap and MAP_FIXED
 * paths cost nothing while no direct map exists. */
static atomic_size_t Nlive;

static int dmap_ioctl(int fd, struct pmfs_dmap_ioc *io, uint32_t op)
{
	io->magic = PMFS_DMAP_MAGIC;
	io->version = PMFS_DMAP_VERSION;
	io->op = op;
	if (ioctl(fd, PMFS_IOC_DMAP, io) < 0)
		return -1;
	if (io->magic != PMFS_DMAP_MAGIC || io->version != PMFS_DMAP_VERSION) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static void release_grant(int fd, uint64_t grant)
{
	struct pmfs_dmap_ioc *io = calloc(1, sizeof(*io));

	if (!io)
		return; /* closing the fd releases it anyway */
	io->grant = grant;
	if (dmap_ioctl(fd, io, PMFS_DMAP_OP_RELEASE) < 0)
		pmem_log(3, "pmemfs: releasing grant %llu: %s", (unsigned long long)grant,
			 strerror(errno));
	free(io);
}

/* The whole extent list (first page already in io), checked to tile
 * [0, map_len) in order with page-aligned pieces. */
static struct pmfs_dmap_extent *fetch_extents(int fd, struct pmfs_dmap_ioc *io, uint32_t *n)
{
	uint32_t total = io->total;
	struct pmfs_dmap_extent *ext = calloc(total ? total : 1, sizeof(*ext));
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), at = 0;
	uint32_t got = 0;

	if (!ext)
		return NULL;
	while (got < total) {
		if (got > 0) {
			io->start = got;
			if (dmap_ioctl(fd, io, PMFS_DMAP_OP_LIST) < 0 || io->total != total)
				goto bad;
		}
		if (io->count == 0 || io->count > PMFS_DMAP_PAGE_EXTENTS || io->count > total - got)
			goto bad;
		memcpy(ext + got, io->ext, io->count * sizeof(*ext));
		got += io->count;
	}
	for (uint32_t i = 0; i < total; i++) {
		if (ext[i].file_off != at || ext[i].len == 0 || ext[i].len % page ||
		    ext[i].dev_off % page || ext[i].dev_off + ext[i].len > io->dev_size)
			goto bad;
		at += ext[i].len;
	}
	if (at != io->map_len)
		goto bad;
	*n = total;
	return ext;
bad:
	pmem_log(3, "pmemfs: the daemon's extent list does not tile the file");
	free(ext);
	errno = EPROTO;
	return NULL;
}

/* Opens the device the daemon named and checks it is that device (and,
 * for an emulation file, that it holds this file system). */
static int open_device(const struct pmfs_dmap_ioc *io, bool writable, struct stat *st)
{
	int fd = open(io->dev_path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0) {
		pmem_log(3, "pmemfs: cannot open %s: %s", io->dev_path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0)
		goto bad;
	if (io->dev_kind == PMFS_DMAP_DEV_DEVDAX) {
		if (!S_ISCHR(st->st_mode) || st->st_rdev != io->dev_rdev)
			goto bad;
	} else {
		uint8_t uuid[16];

		if (!S_ISREG(st->st_mode) || st->st_dev != io->dev_st_dev ||
		    st->st_ino != io->dev_st_ino ||
		    pread(fd, uuid, sizeof(uuid), PMFS_DMAP_SB_UUID_OFFSET) != sizeof(uuid) ||
		    memcmp(uuid, io->uuid, sizeof(uuid)) != 0)
			goto bad;
	}
	return fd;
bad:
	pmem_log(3, "pmemfs: %s is not the device the daemon named", io->dev_path);
	close(fd);
	errno = ENODEV;
	return -1;
}

/*
 * Makes this mapping visible to any later daemon (a restart after kill -9
 * must not free blocks we map): a read lock on byte LOCK_BASE + ino of
 * our own device fd, held until that fd closes.  Then asks the daemon
 * for the grant again: if it still answers, it was alive after the lock
 * existed, so whichever daemon runs next sees the lock at mount.  If it
 * does not (it died between MAP and the lock), we fall back: nobody
 * promises that the blocks are still ours.
 */
static int announce_mapping(int fd, int dev_fd, struct pmfs_dmap_ioc *io)
{
	struct stat st;
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_len = 1};

	if (fstat(fd, &st) < 0)
		return -1;
	fl.l_start = (off_t)(PMFS_DMAP_LOCK_BASE + st.st_ino);
	if (fcntl(dev_fd, F_OFD_SETLK, &fl) < 0) {
		pmem_log(3, "pmemfs: locking the mapping's byte: %s", strerror(errno));
		return -1;
	}
	io->start = 0;
	if (dmap_ioctl(fd, io, PMFS_DMAP_OP_LIST) < 0) {
		pmem_log(3, "pmemfs: the grant went away while mapping: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Maps the extents' pieces that fall in [off, off + span) over base (at
 * base + file offset - off).  need_sync: MAP_SYNC or nothing (the caller
 * asked for it); else MAP_SYNC where the device takes it.  *sync: every
 * piece took MAP_SYNC.
 */
static int map_extents(char *base, int dev_fd, const struct pmfs_dmap_extent *ext, uint32_t n,
		       uint64_t off, size_t span, int prot, bool need_sync, bool *sync)
{
	const uint64_t end = off + span;

	*sync = true;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lo = ext[i].file_off > off ? ext[i].file_off : off;
		uint64_t hi =
		    ext[i].file_off + ext[i].len < end ? ext[i].file_off + ext[i].len : end;
		void *want = base + (lo - off), *got = MAP_FAILED;
		off_t dev_off;

		if (lo >= hi)
			continue;
		dev_off = (off_t)(ext[i].dev_off + (lo - ext[i].file_off));
		if (*sync) {
			got = mmap(want, hi - lo, prot, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED,
				   dev_fd, dev_off);
			if (got == MAP_FAILED && (errno == EOPNOTSUPP || errno == EINVAL) &&
			    !need_sync)
				*sync = false;
		}
		if (!*sync)
			got = mmap(want, hi - lo, prot, MAP_SHARED | MAP_FIXED, dev_fd, dev_off);
		if (got == MAP_FAILED) {
			pmem_log(3, "pmemfs: mmap of extent %u: %s", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int remember(const struct dmapping *m)
{
	pthread_mutex_lock(&Lock);
	if (Nmaps == Cap) {
		size_t cap = Cap ? Cap * 2 : 8;
		struct dmapping *nm = realloc(Maps, cap * sizeof(*nm));

		if (!nm) {
			pthread_mutex_unlock(&Lock);
			errno = ENOMEM;
			return -1;
		}
		Maps = nm;
		Cap = cap;
	}
	Maps[Nmaps++] = *m;
	atomic_store_explicit(&Nlive, Nmaps, memory_order_release);
	pthread_mutex_unlock(&Lock);
	return 0;
}

/* Registers the range as pmem when it is: devdax, or MAP_SYNC granted.
 * cut_align: where pmem_unmap may cut it (the kernel's rule on devdax; 0
 * for a window, which is never cut). */
static int register_pmem(char *base, size_t len, const struct pmfs_dmap_ioc *io,
			 const struct stat *dev_st, bool sync, size_t cut_align)
{
	if (io->dev_kind == PMFS_DMAP_DEV_DEVDAX) {
		struct pmem_devdax dax;

		if (pmem_devdax_from_stat(dev_st, &dax) != 1)
			dax.region_id = -1;
		return pmem_range_register(base, len, PMEM_RANGE_DEVDAX, dax.region_id, cut_align);
	}
	if (sync)
		return pmem_range_register(base, len, PMEM_RANGE_MAP_SYNC, -1, 0);
	return 0;
}

static bool direct_disabled(void)
{
	return pmem_env_long("PMEM_PMEMFS_DIRECT") == 0;
}

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

/* Where req's range sits in the device mapping we make. */
struct layout {
	uint64_t off; /* file offset of the mapping's first byte */
	size_t span;  /* its length */
	size_t lead;  /* req->off - off: the caller's range starts there */
	bool window;  /* wider than the caller's range */
};

/*
 * The mapping for req, given the daemon's answer: the range rounded to
 * pages; on devdax, which the kernel maps only in whole aligned pieces at
 * aligned addresses, the aligned window around it.  A fixed address
 * cannot have a window (it would cover the caller's neighbours): such a
 * request must be aligned.  false when it cannot be honoured directly.
 */
static bool direct_layout(const struct pmem_pmemfs_req *req, const struct pmfs_dmap_ioc *io,
			  size_t page, struct layout *lay)
{
	size_t a = (size_t)io->align;

	if (a == 0 || a % page)
		return false;
	lay->off = req->off;
	lay->span = round_up(req->len, page);
	lay->lead = 0;
	lay->window = false;
	if (io->dev_kind == PMFS_DMAP_DEV_DEVDAX) {
		lay->off = req->off / a * a;
		lay->lead = (size_t)(req->off - lay->off);
		lay->span = round_up(lay->lead + req->len, a);
		lay->window = lay->lead != 0 || lay->span != round_up(req->len, page);
		if (req->fixed && (lay->window || (uintptr_t)req->addr % a))
			return false;
	}
	/* Only what the file holds: past its last page a FUSE mapping gives
	 * SIGBUS, a direct one would give the device's bytes. */
	return req->off + req->len <= round_up((size_t)io->file_size, page) &&
	       lay->off + lay->span <= io->map_len;
}

/*
 * Where the mapping goes: exactly addr (MAP_FIXED: mapped over whatever is
 * there; NOREPLACE: a reservation that fails if anything is), near the
 * hint when the kernel gives an address the device can use, else a fresh
 * reservation aligned for the device.  *reserved: we made a reservation to
 * give back on failure.
 */
static char *place(const struct pmem_pmemfs_req *req, const struct layout *lay, size_t align,
		   size_t page, bool *reserved)
{
	const size_t span = lay->span;
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	size_t need = align > page ? align : page;
	void *p;

	*reserved = false;
	if (req->fixed && !req->noreplace)
		return req->addr;
	if (req->fixed) {
		p = mmap(req->addr, span, PROT_NONE, anon | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		*reserved = true;
		if (p != req->addr) { /* a kernel without NOREPLACE took it as a hint */
			munmap(p, span);
			*reserved = false;
			return NULL;
		}
		return p;
	}
	if (req->addr && (uintptr_t)req->addr >= lay->lead) {
		p = mmap((char *)req->addr - lay->lead, span, PROT_NONE, anon, -1, 0);
		if (p != MAP_FAILED && (uintptr_t)p % need == 0) {
			*reserved = true;
			return p;
		}
		if (p != MAP_FAILED)
			munmap(p, span);
	}
	p = pmem_mmap_reserve(span, align);
	*reserved = p != NULL;
	return p;
}

PMEM_PRIVATE_API void *pmem_pmemfs_map_range(const struct pmem_pmemfs_req *req)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct pmfs_dmap_extent *ext = NULL;
	struct pmfs_dmap_ioc *io = NULL;
	struct dmapping m = {.file_fd = -1, .dev_fd = -1};
	struct statfs sfs;
	struct stat dev_st;
	struct layout lay = {0};
	char *base = NULL, *at;
	uint32_t n = 0;
	bool sync = false, granted = false, reserved = false, placed = false, writable;
	int saved_errno = errno, acc;

	if (req->len == 0 || req->off % page || fstatfs(req->fd, &sfs) < 0 ||
	    sfs.f_type != FUSE_SUPER_MAGIC || direct_disabled())
		goto fallback;
	acc = fcntl(req->fd, F_GETFL);
	if (acc < 0 || (acc & O_ACCMODE) == O_WRONLY)
		goto fallback; /* mmap needs a readable fd: let the kernel say so */
	/* An O_RDWR fd gets a writable grant even for a PROT_READ map, so that
	 * mprotect(PROT_WRITE) works as it would on the FUSE mapping. */
	writable = (acc & O_ACCMODE) == O_RDWR;
	io = calloc(1, sizeof(*io));
	if (!io)
		goto fallback;
	io->flags = writable ? PMFS_DMAP_F_WRITE : 0;
	if (dmap_ioctl(req->fd, io, PMFS_DMAP_OP_MAP) < 0) {
		/* ENOTTY/ENOSYS: another FUSE file system; else pmemfs said no */
		pmem_log(3, "pmemfs: no direct map for fd %d: %s", req->fd, strerror(errno));
		goto fallback;
	}
	granted = true;
	m.grant = io->grant;
	if (!direct_layout(req, io, page, &lay)) {
		pmem_log(3, "pmemfs: fd %d: [%llu, +%zu) cannot be mapped directly here", req->fd,
			 (unsigned long long)req->off, req->len);
		goto fallback;
	}
	ext = fetch_extents(req->fd, io, &n);
	if (!ext)
		goto fallback;
	m.dev_fd = open_device(io, writable, &dev_st);
	if (m.dev_fd < 0 || announce_mapping(req->fd, m.dev_fd, io) < 0)
		goto fallback;
	m.file_fd = fcntl(req->fd, F_DUPFD_CLOEXEC, 0);
	if (m.file_fd < 0)
		goto fallback;
	base = place(req, &lay, (size_t)io->align, page, &reserved);
	if (!base)
		goto fallback;
	placed = true;
	if (map_extents(base, m.dev_fd, ext, n, lay.off, lay.span, req->prot, req->sync, &sync) < 0)
		goto fallback;
	at = base + lay.lead;
	m.start = (uintptr_t)base;
	m.span = lay.span;
	m.window = lay.window;
	m.live = malloc(sizeof(*m.live));
	if (!m.live)
		goto fallback;
	m.live[0] = (struct piece){(uintptr_t)at, (uintptr_t)at + round_up(req->len, page)};
	m.nlive = 1;
	if (register_pmem(at, req->len, io, &dev_st, sync, lay.window ? 0 : (size_t)io->align) < 0)
		goto fallback;
	if (remember(&m) < 0) {
		pmem_range_unregister(at, req->len);
		goto fallback;
	}
	pmem_log(3, "pmemfs: fd %d: [%llu, +%zu) mapped directly from %s at %p (%u extents, %s)",
		 req->fd, (unsigned long long)req->off, req->len, io->dev_path, (void *)at, n,
		 io->dev_kind == PMFS_DMAP_DEV_DEVDAX ? "devdax"
		 : sync				      ? "MAP_SYNC"
						      : "no MAP_SYNC");
	free(ext);
	free(io);
	errno = saved_errno;
	return at;
fallback:
	/* No device page may stay mapped once the grant goes: give back our
	 * reservation, or cover the caller's fixed range with an inaccessible
	 * anonymous one (the caller's ordinary MAP_FIXED mmap replaces it). */
	if (placed && reserved)
		munmap(base, lay.span);
	else if (placed)
		mmap(base, lay.span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (granted)
		release_grant(req->fd, m.grant);
	if (m.file_fd >= 0)
		close(m.file_fd);
	if (m.dev_fd >= 0)
		close(m.dev_fd);
	free(m.live);
	free(ext);
	free(io);
	errno = saved_errno;
	return NULL;
}

void *pmem_pmemfs_map(int fd, size_t len)
{
	struct pmem_pmemfs_req req = {
	    .fd = fd, .prot = PROT_READ | PROT_WRITE, .off = 0, .len = len};

	return pmem_pmemfs_map_range(&req);
}

int pmem_pmemfs_unmap_window(void *addr, size_t len, int (*unmap)(void *, size_t))
{
	uintptr_t s = (uintptr_t)addr, e = s + len;
	struct dmapping gone;
	bool found = false, last = false, straddles = false;

	if (atomic_load_explicit(&Nlive, memory_order_acquire) == 0)
		return 0;
	pthread_mutex_lock(&Lock);
	for (size_t i = 0; i < Nmaps && !found; i++) {
		struct dmapping *m = &Maps[i];

		if (!m->window || e <= m->start || s >= m->start + m->span)
			continue;
		if (s < m->start || e > m->start + m->span) {
			/* the kernel would cut the window where the caller
			 * asked, and its end would then unmap whatever took
			 * that place since: refuse, as devdax refuses a cut
			 * off its alignment */
			straddles = true;
			break;
		}
		found = true;
		cut_live(m, s, e);
		if (m->nlive == 0) {
			last = true;
			gone = *m;
			Maps[i] = Maps[--Nmaps];
		}
	}
	atomic_store_explicit(&Nlive, Nmaps, memory_order_release);
	pthread_mutex_unlock(&Lock);
	if (straddles) {
		errno = EINVAL;
		pmem_err("munmap %p + %zu: part of a direct map's aligned window only", addr, len);
		return -1;
	}
	if (!found)
		return 0;
	pmem_range_unregister(addr, len);
	if (!last)
		return 1;
	return release_dead(&gone, unmap) < 0 ? -1 : 1;
}

/* The end of [addr, addr + len), saturated at the top of the address
 * space (callers pass what an application passed to munmap/mremap). */
static uintptr_t range_end(uintptr_t s, size_t len)
{
	return len > UINTPTR_MAX - s ? UINTPTR_MAX : s + len;
}

/* Does [s, e) meet a live piece of m? */
static bool hits_live(const struct dmapping *m, uintptr_t s, uintptr_t e)
{
	for (size_t j = 0; j < m->nlive; j++)
		if (s < m->live[j].hi && e > m->live[j].lo)
			return true;
	return false;
}

/* Does [s, e) meet m's aligned window? */
static bool hits_window(const struct dmapping *m, uintptr_t s, uintptr_t e)
{
	return m->window && s < m->start + m->span && e > m->start;
}

/* Does hit() say yes for [addr, addr + len) and any direct map? */
static bool any_map(const void *addr, size_t len,
		    bool (*hit)(const struct dmapping *m, uintptr_t s, uintptr_t e))
{
	uintptr_t s = (uintptr_t)addr, e = range_end(s, len);
	bool found = false;

	if (atomic_load_explicit(&Nlive, memory_order_acquire) == 0)
		return false;
	pthread_mutex_lock(&Lock);
	for (size_t i = 0; i < Nmaps && !found; i++)
		found = hit(&Maps[i], s, e);
	pthread_mutex_unlock(&Lock);
	return found;
}

PMEM_PRIVATE_API bool pmem_pmemfs_overlaps(const void *addr, size_t len)
{
	return any_map(addr, len, hits_live);
}

PMEM_PRIVATE_API bool pmem_pmemfs_in_window(const void *addr, size_t len)
{
	return any_map(addr, len, hits_window);
}

/*
 * Removes [s, e) from m's live pieces.  A cut inside one piece splits it
 * (and touches no other); without memory for the second half the piece
 * stays whole: conservative, the grant may outlive its mapping, never the
 * reverse.
 */
static void cut_live(struct dmapping *m, uintptr_t s, uintptr_t e)
{
	for (size_t i = 0; i < m->nlive;) {
		struct piece *p = &m->live[i];

		if (e <= p->lo || s >= p->hi) {
			i++;
			continue;
		}
		if (s > p->lo && e < p->hi) {
			struct piece *grown = realloc(m->live, (m->nlive + 1) * sizeof(*grown));

			if (!grown)
				return;
			m->live = grown;
			p = &m->live[i];
			memmove(p + 2, p + 1, (m->nlive - i - 1) * sizeof(*p));
			p[1] = (struct piece){e, p->hi};
			p->hi = s;
			m->nlive++;
			return;
		}
		if (s <= p->lo && e >= p->hi) {
			memmove(p, p + 1, (m->nlive - i - 1) * sizeof(*p));
			m->nlive--;
			continue;
		}
		if (s <= p->lo)
			p->lo = e;
		else
			p->hi = s;
		i++;
	}
}

/*
 * A direct map with nothing left: closes its fds (closing the dup of the
 * pmemfs fd, the last reference to that open file, releases the grant and
 * its pins in the daemon), after unmapping what remains of a window with
 * unmap() when given.  If that fails the device pages stay mapped, so the
 * grant stays too (the fds leak): never a mapping without its pins.
 */
static int release_dead(struct dmapping *g, int (*unmap)(void *, size_t))
{
	free(g->live);
	if (unmap && unmap((void *)g->start, g->span) < 0) {
		pmem_err("munmap of the direct map %p + %zu: %s", (void *)g->start, g->span,
			 strerror(errno));
		return -1;
	}
	close(g->dev_fd);
	close(g->file_fd);
	return 0;
}

/* Cuts [s, e) out of every direct map; takes out of the table the first
 * one left with nothing and copies it to *gone.  false when none died. */
static bool cut_all(uintptr_t s, uintptr_t e, struct dmapping *gone)
{
	bool died = false;

	pthread_mutex_lock(&Lock);
	for (size_t i = 0; i < Nmaps && !died; i++) {
		cut_live(&Maps[i], s, e);
		if (Maps[i].nlive == 0) {
			*gone = Maps[i];
			Maps[i] = Maps[--Nmaps];
			died = true;
		}
	}
	atomic_store_explicit(&Nlive, Nmaps, memory_order_release);
	pthread_mutex_unlock(&Lock);
	return died;
}

/*
 * [addr, addr+len) was unmapped or mapped over: cut it out of every direct
 * map it touched and release those with nothing left.  A window whose
 * caller's pieces are all gone this way (the kernel cut its vma at aligned
 * points) also loses the rest of its vma, unmapped here outside the lock
 * (munmap may come back through the preload, which takes it).
 */
void pmem_pmemfs_unmapped(void *addr, size_t len)
{
	uintptr_t s = (uintptr_t)addr, e = range_end(s, len);
	struct dmapping gone;

	if (atomic_load_explicit(&Nlive, memory_order_acquire) == 0)
		return;
	while (cut_all(s, e, &gone))
		release_dead(&gone, gone.window ? munmap : NULL);
}

PMEM_PRIVATE_API void pmem_pmemfs_replaced(void *addr, size_t len)
{
	pmem_range_unregister(addr, len);
	pmem_pmemfs_unmapped(addr, len);
}
