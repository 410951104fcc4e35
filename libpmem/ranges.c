/*
 * ranges.c - the registry of mapped pmem ranges, and the two public calls
 * that read and shrink it: pmem_is_pmem() and pmem_unmap().
 *
 * The registry is a sorted array of disjoint [start, end) ranges under a
 * writer-preferring rwlock: lookups are a binary search under the read lock
 * (libpmemobj asks pmem_is_pmem() on every pool open and some flush paths),
 * and a lock-free count lets processes without any pmem answer 0 without
 * touching the lock at all.  Only pmem ranges are recorded (MAP_SYNC and
 * devdax), as in PMDK; a plain file mapping is simply absent.  Direct maps
 * of pmemfs files are recorded here the same way; pmemfs_direct.c keeps
 * their fds and is told what pmem_unmap() took.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libpmem.h"
#include "pmem_internal.h"
#include "pmemfs_direct.h"

static pthread_rwlock_t Ranges_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct pmem_range *Ranges;
static size_t Ranges_count;
static size_t Ranges_capacity;
static atomic_size_t Ranges_published_count;
/* Bumped (under the write lock) after every change; starts at 1 so that a
 * thread's zeroed Last_hit never matches. */
static atomic_ulong Ranges_generation = 1;

/* The range that last answered 1 in this thread, valid while the
 * generation is unchanged: repeated queries on one mapping (libpmemobj's
 * pattern) then cost one atomic load and no shared-cache-line write. */
static _Thread_local struct {
	unsigned long generation;
	uintptr_t start, end;
} Last_hit;

/* Index of the first range whose end lies above addr (the only candidate to
 * hold addr); Ranges_count if none.  Caller holds the lock. */
static size_t first_ending_above(uintptr_t addr)
{
	size_t low = 0, high = Ranges_count;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		if (Ranges[mid].end <= addr)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/* Makes room for count entries. */
static int reserve_room(size_t count)
{
	if (count <= Ranges_capacity)
		return 0;
	size_t capacity = Ranges_capacity ? Ranges_capacity * 2 : 16;
	while (capacity < count)
		capacity *= 2;
	struct pmem_range *grown = realloc(Ranges, capacity * sizeof(*grown));
	if (grown == NULL) {
		errno = ENOMEM;
		return -1;
	}
	Ranges = grown;
	Ranges_capacity = capacity;
	return 0;
}

/* Cuts [start, end) out of the array.  Caller holds the lock. */
static void remove_span(uintptr_t start, uintptr_t end)
{
	size_t first = first_ending_above(start);
	if (first == Ranges_count || Ranges[first].start >= end)
		return;

	if (Ranges[first].start < start && Ranges[first].end > end) {
		/* One range holds the whole span: split it in two.  Without
		 * memory for the second piece, forget the tail: answering "not
		 * pmem" there only costs speed (callers msync), never data. */
		if (reserve_room(Ranges_count + 1) < 0) {
			pmem_log(1, "out of memory splitting a range; its tail reads as not pmem");
			Ranges[first].end = start;
			return;
		}
		memmove(&Ranges[first + 1], &Ranges[first],
			(Ranges_count - first) * sizeof(*Ranges));
		Ranges_count++;
		Ranges[first].end = start;
		Ranges[first + 1].start = end;
		return;
	}
	if (Ranges[first].start < start) {
		Ranges[first].end = start; /* keep its head */
		first++;
	}
	size_t last = first; /* ranges [first, last) lie wholly inside */
	while (last < Ranges_count && Ranges[last].end <= end)
		last++;
	if (last < Ranges_count && Ranges[last].start < end)
		Ranges[last].start = end; /* keep its tail */
	memmove(&Ranges[first], &Ranges[last], (Ranges_count - last) * sizeof(*Ranges));
	Ranges_count -= last - first;
}

int pmem_range_register(void *addr, size_t len, enum pmem_range_kind kind, int region_id,
			size_t align)
{
	uintptr_t start = (uintptr_t)addr;
	if (len == 0 || len > UINTPTR_MAX - start) {
		errno = EINVAL;
		pmem_err("cannot register range %p + %zu", addr, len);
		return -1;
	}
	struct pmem_range range = {start, start + len, kind, region_id, align};

	pthread_rwlock_wrlock(&Ranges_lock);
	/* Anything already here was munmap()ed behind our back: the kernel
	 * has just handed this address range out again. */
	size_t first = first_ending_above(start);
	if (first < Ranges_count && Ranges[first].start < range.end) {
		pmem_log(2, "dropping stale ranges in %p + %zu (unmapped without pmem_unmap?)",
			 addr, len);
		remove_span(range.start, range.end);
	}
	if (reserve_room(Ranges_count + 1) < 0) {
		pthread_rwlock_unlock(&Ranges_lock);
		pmem_err("cannot register range %p + %zu: out of memory", addr, len);
		return -1;
	}
	size_t at = first_ending_above(start);
	memmove(&Ranges[at + 1], &Ranges[at], (Ranges_count - at) * sizeof(*Ranges));
	Ranges[at] = range;
	Ranges_count++;
	atomic_store_explicit(&Ranges_published_count, Ranges_count, memory_order_release);
	atomic_fetch_add_explicit(&Ranges_generation, 1, memory_order_release);
	pthread_rwlock_unlock(&Ranges_lock);
	return 0;
}

void pmem_range_unregister(void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr;
	uintptr_t end = len > UINTPTR_MAX - start ? UINTPTR_MAX : start + len;

	pthread_rwlock_wrlock(&Ranges_lock);
	remove_span(start, end);
	atomic_store_explicit(&Ranges_published_count, Ranges_count, memory_order_release);
	atomic_fetch_add_explicit(&Ranges_generation, 1, memory_order_release);
	pthread_rwlock_unlock(&Ranges_lock);
}

int pmem_range_is_pmem(const void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr;
	if (len == 0 || atomic_load_explicit(&Ranges_published_count, memory_order_acquire) == 0)
		return 0;
	uintptr_t end = len > UINTPTR_MAX - start ? UINTPTR_MAX : start + len;
	unsigned long generation = atomic_load_explicit(&Ranges_generation, memory_order_acquire);
	if (Last_hit.generation == generation && start >= Last_hit.start && end <= Last_hit.end)
		return 1;

	pthread_rwlock_rdlock(&Ranges_lock);
	generation = atomic_load_explicit(&Ranges_generation, memory_order_relaxed);
	int covered = 0;
	size_t i = first_ending_above(start);
	if (i < Ranges_count && Ranges[i].start <= start && Ranges[i].end >= end) {
		covered = 1; /* the common case: one range holds it all */
		Last_hit.generation = generation;
		Last_hit.start = Ranges[i].start;
		Last_hit.end = Ranges[i].end;
	}
	uintptr_t next = start;
	while (!covered && i < Ranges_count && Ranges[i].start <= next) {
		next = Ranges[i].end; /* contiguous so far up to here */
		if (next >= end)
			covered = 1;
		i++;
	}
	pthread_rwlock_unlock(&Ranges_lock);
	return covered;
}

int pmem_range_find(const void *addr, size_t len, struct pmem_range *found)
{
	uintptr_t start = (uintptr_t)addr;
	uintptr_t end = len > UINTPTR_MAX - start ? UINTPTR_MAX : start + len;
	int ret = -1;

	pthread_rwlock_rdlock(&Ranges_lock);
	size_t i = first_ending_above(start);
	if (i < Ranges_count && (Ranges[i].start < end || (len == 0 && Ranges[i].start <= start))) {
		*found = Ranges[i];
		ret = 0;
	}
	pthread_rwlock_unlock(&Ranges_lock);
	return ret;
}

/* A cut at point inside a devdax range must fall on the device's alignment:
 * the kernel refuses to split such a mapping anywhere else (EINVAL). */
static bool cut_allowed(uintptr_t point)
{
	size_t i = first_ending_above(point);
	if (i == Ranges_count || Ranges[i].start >= point || Ranges[i].align == 0)
		return true;
	return point % Ranges[i].align == 0;
}

static bool unmap_cuts_allowed(uintptr_t start, uintptr_t end)
{
	pthread_rwlock_rdlock(&Ranges_lock);
	bool allowed = cut_allowed(start) && cut_allowed(end);
	pthread_rwlock_unlock(&Ranges_lock);
	return allowed;
}

/* ---- PMEM_IS_PMEM_FORCE, read at the first pmem_is_pmem() call ----------- */
enum is_pmem_mode { IS_PMEM_DETECT, IS_PMEM_ALWAYS, IS_PMEM_NEVER };
static enum is_pmem_mode Is_pmem_mode;
static pthread_once_t Is_pmem_once = PTHREAD_ONCE_INIT;

static void read_is_pmem_force(void)
{
	long force = pmem_env_long("PMEM_IS_PMEM_FORCE");
	if (force == 0)
		Is_pmem_mode = IS_PMEM_NEVER;
	else if (force == 1)
		Is_pmem_mode = IS_PMEM_ALWAYS;
	else
		Is_pmem_mode = IS_PMEM_DETECT;
	pmem_log(4, "PMEM_IS_PMEM_FORCE=%ld", force);
}

PMEM_EXPORT int pmem_is_pmem(const void *addr, size_t len)
{
	pthread_once(&Is_pmem_once, read_is_pmem_force);
	switch (Is_pmem_mode) {
	case IS_PMEM_ALWAYS:
		return len != 0;
	case IS_PMEM_NEVER:
		return 0;
	default:
		return pmem_range_is_pmem(addr, len);
	}
}

/*
 * Forgets the range first and unmaps it second: the other order would let
 * another thread's new mapping at this address meet our stale entry.  The
 * length is rounded up to pages as munmap() does.  What munmap() would
 * refuse (addr not page aligned, a devdax mapping cut off its alignment)
 * is refused before the registry changes, so it stays true.  unmap is
 * munmap() for pmem_unmap, the raw syscall for libpmemfs-preload.so's
 * munmap() of a direct map (pmemfs_direct.h).
 */
PMEM_PRIVATE_API int pmem_unmap_with(void *addr, size_t len, int (*unmap)(void *, size_t))
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (len == 0 || (uintptr_t)addr % page != 0) {
		errno = EINVAL;
		pmem_err("pmem_unmap %p + %zu: address must be page aligned and length non-zero",
			 addr, len);
		return -1;
	}
	size_t rounded = len > SIZE_MAX - (page - 1) ? len : (len + page - 1) / page * page;
	/* part of a pmemfs devdax window: forgotten, unmapped with its last part */
	int window = pmem_pmemfs_unmap_window(addr, rounded, unmap);
	if (window != 0)
		return window < 0 ? -1 : 0;
	uintptr_t start = (uintptr_t)addr;
	uintptr_t end = rounded > UINTPTR_MAX - start ? UINTPTR_MAX : start + rounded;
	if (!unmap_cuts_allowed(start, end)) {
		errno = EINVAL;
		pmem_err("pmem_unmap %p + %zu: a device DAX mapping can only be split at "
			 "multiples of its alignment",
			 addr, len);
		return -1;
	}
	pmem_range_unregister(addr, rounded);
	if (unmap(addr, rounded) < 0) {
		pmem_err("munmap %p + %zu: %s", addr, len, strerror(errno));
		return -1;
	}
	pmem_pmemfs_unmapped(addr, rounded);
	return 0;
}

PMEM_EXPORT int pmem_unmap(void *addr, size_t len)
{
	return pmem_unmap_with(addr, len, munmap);
}
