/*
 * mmap_hint.c - choosing where a mapping goes.  Aligned addresses let the
 * kernel use 2 MiB or 1 GiB pages on DAX, and let a devdax mapping exist at
 * all (the kernel refuses devdax mappings not aligned to the device).
 *
 * PMDK (util_map_hint) reserves len + align bytes, rounds the address up,
 * releases the reservation and passes the result to mmap() as a hint,
 * which another thread can take in between.  We keep the reservation
 * instead: PROT_NONE, trimmed to exactly the aligned part, and the caller
 * maps the file over it with MAP_FIXED.  So the alignment is guaranteed.
 *
 * PMEM_MMAP_HINT=<hex address> has PMDK's meaning: it turns off address
 * randomisation and places each mapping at the first unused, aligned
 * address at or above it (found in /proc/self/maps).  It is read once, at
 * the first mapping, and ignored when invalid or when /proc is unreadable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmem_internal.h"

#define MEBIBYTE ((size_t)1 << 20)
#define GIBIBYTE ((size_t)1 << 30)
#define MAPS_FILE "/proc/self/maps"
#define HINT_SCAN_TRIES 8

static uintptr_t Hint_address;
static bool Hint_enabled;
static pthread_once_t Hint_once = PTHREAD_ONCE_INIT;

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

size_t pmem_mmap_align(size_t len, size_t req_align)
{
	size_t align = page_size();
	if (len >= 2 * GIBIBYTE)
		align = GIBIBYTE;
	else if (len >= 4 * MEBIBYTE)
		align = 2 * MEBIBYTE;
	return req_align > align ? req_align : align;
}

static void read_hint_env(void)
{
	const char *text = getenv("PMEM_MMAP_HINT");
	if (text == NULL)
		return;
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 16);
	if (errno != 0 || end == text) {
		pmem_log(2, "invalid PMEM_MMAP_HINT \"%s\": ignored", text);
		return;
	}
	if (access(MAPS_FILE, R_OK) != 0) {
		pmem_log(2, "no %s: PMEM_MMAP_HINT ignored", MAPS_FILE);
		return;
	}
	Hint_address = (uintptr_t)value;
	Hint_enabled = true;
	pmem_log(3, "PMEM_MMAP_HINT set to %#llx", value);
}

static uintptr_t round_up(uintptr_t value, size_t align)
{
	return (value + align - 1) & ~(uintptr_t)(align - 1);
}

/* The first unused, aligned gap of len bytes at or above min in this
 * process, or 0 (PMDK's util_map_hint_unused). */
static uintptr_t find_unused(uintptr_t min, size_t len, size_t align)
{
	FILE *maps = fopen(MAPS_FILE, "re");
	if (maps == NULL)
		return 0;
	uintptr_t candidate = round_up(min < page_size() ? page_size() : min, align);
	char *line = NULL;
	size_t line_size = 0;
	while (candidate != 0 && getline(&line, &line_size, maps) > 0) {
		unsigned long low, high;
		if (sscanf(line, "%lx-%lx", &low, &high) != 2)
			continue;
		if (low > candidate && low - candidate >= len)
			break;
		if (high > candidate)
			candidate = round_up(high, align); /* 0 when it wraps */
	}
	free(line);
	fclose(maps);
	if (candidate == 0 || UINTPTR_MAX - candidate < len)
		return 0;
	return candidate;
}

static void *reserve_at_hint(size_t len, size_t align)
{
	for (int try = 0; try < HINT_SCAN_TRIES; try++) {
		uintptr_t at = find_unused(Hint_address, len, align);
		if (at == 0)
			return NULL;
		void *got =
		    mmap((void *)at, len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (got == (void *)at)
			return got;
		if (got != MAP_FAILED)
			munmap(got, len); /* a kernel without MAP_FIXED_NOREPLACE */
		else if (errno != EEXIST)
			return NULL;
		/* another thread took the gap meanwhile: look again */
	}
	return NULL;
}

static void *reserve_anywhere(size_t len, size_t align)
{
	size_t slack = align - page_size(); /* mmap() returns page-aligned addresses */
	if (len > SIZE_MAX - slack) {
		errno = ENOMEM;
		return NULL;
	}
	char *base =
	    mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	char *aligned = (char *)round_up((uintptr_t)base, align);
	size_t head = (size_t)(aligned - base);
	if (head != 0)
		munmap(base, head);
	if (slack - head != 0)
		munmap(aligned + len, slack - head);
	return aligned;
}

void *pmem_mmap_reserve(size_t len, size_t req_align)
{
	pthread_once(&Hint_once, read_hint_env);
	size_t page = page_size();
	size_t align = pmem_mmap_align(len, req_align);
	if (len == 0 || len > SIZE_MAX - (page - 1) || align % page != 0) {
		errno = EINVAL;
		pmem_err("cannot reserve %zu bytes aligned to %zu", len, align);
		return NULL;
	}
	len = round_up(len, page);

	if (Hint_enabled) {
		void *at_hint = reserve_at_hint(len, align);
		if (at_hint != NULL)
			return at_hint;
		pmem_log(2, "no room above PMEM_MMAP_HINT %#lx for %zu bytes: placing anywhere",
			 (unsigned long)Hint_address, len);
	}
	void *anywhere = reserve_anywhere(len, align);
	if (anywhere == NULL)
		pmem_err("cannot find %zu bytes of address space aligned to %zu: %s", len, align,
			 strerror(errno));
	return anywhere;
}
