/*
 * dmap_pmemobj - a transactional libpmemobj workload (Debian's PMDK
 * libpmemobj, run on whichever libpmem.so.1 the loader finds) on a pool
 * file: a root object holding an array of object ids; each transaction
 * frees one slot's object, allocates a new one and writes a checksummed
 * payload.  "create" builds and runs, "check" reopens and verifies every
 * payload.  Both first print "map=PATH is_pmem=N": the file the pool's
 * mapping comes from (/proc/self/maps: the device image when
 * libpmemfs-preload.so mapped it directly, the pool file through FUSE)
 * and what pmem_is_pmem said about it (how libpmemobj persists: flushes
 * or msync).
 *
 *   dmap_pmemobj create POOL NTX
 *   dmap_pmemobj check POOL
 */
#include <inttypes.h>
#include <libpmem.h>
#include <libpmemobj.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64
#define PAYLOAD 1000

POBJ_LAYOUT_BEGIN(dmap);
POBJ_LAYOUT_ROOT(dmap, struct root);
POBJ_LAYOUT_TOID(dmap, struct item);
POBJ_LAYOUT_END(dmap);

struct item {
	uint64_t seq;
	uint64_t sum;
	unsigned char data[PAYLOAD];
};

struct root {
	uint64_t done;
	TOID(struct item) slot[SLOTS];
};

static uint64_t payload_sum(const struct item *it)
{
	uint64_t s = it->seq * 1099511628211ULL;

	for (int i = 0; i < PAYLOAD; i++)
		s = (s ^ it->data[i]) * 1099511628211ULL;
	return s;
}

/* Prints the file behind the mapping that holds the pool's first byte. */
static int print_map(PMEMobjpool *pop)
{
	uintptr_t at = (uintptr_t)pop;
	char line[4096], path[4096];
	FILE *maps = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!maps) {
		perror("dmap_pmemobj: /proc/self/maps");
		return 1;
	}
	while (!found && fgets(line, sizeof(line), maps)) {
		uintptr_t lo, hi;

		path[0] = '\0';
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %4095[^\n]", &lo, &hi,
			   path) >= 2 &&
		    lo <= at && at < hi)
			found = 1;
	}
	fclose(maps);
	if (!found) {
		fprintf(stderr, "dmap_pmemobj: the pool at %p is in no mapping\n", (void *)pop);
		return 1;
	}
	printf("map=%s is_pmem=%d\n", path[0] ? path : "(anonymous)", pmem_is_pmem(pop, 4096));
	fflush(stdout);
	return 0;
}

static int run(PMEMobjpool *pop, long ntx)
{
	TOID(struct root) root = POBJ_ROOT(pop, struct root);

	for (long n = 0; n < ntx; n++) {
		int k = (int)(n % SLOTS);

		TX_BEGIN(pop)
		{
			TOID(struct item) it;

			TX_ADD(root);
			if (!TOID_IS_NULL(D_RO(root)->slot[k]))
				TX_FREE(D_RO(root)->slot[k]);
			it = TX_NEW(struct item);
			D_RW(it)->seq = D_RO(root)->done + 1;
			for (int i = 0; i < PAYLOAD; i++)
				D_RW(it)->data[i] =
				    (unsigned char)(D_RO(it)->seq * 31 + (uint64_t)i);
			D_RW(it)->sum = payload_sum(D_RO(it));
			D_RW(root)->slot[k] = it;
			D_RW(root)->done++;
		}
		TX_ONABORT
		{
			fprintf(stderr, "transaction %ld aborted: %s\n", n, pmemobj_errormsg());
			return 1;
		}
		TX_END
	}
	return 0;
}

static int check(PMEMobjpool *pop)
{
	TOID(struct root) root = POBJ_ROOT(pop, struct root);
	int found = 0;

	for (int k = 0; k < SLOTS; k++) {
		TOID(struct item) it = D_RO(root)->slot[k];

		if (TOID_IS_NULL(it))
			continue;
		if (D_RO(it)->sum != payload_sum(D_RO(it))) {
			fprintf(stderr, "slot %d: payload checksum mismatch\n", k);
			return 1;
		}
		found++;
	}
	printf("done=%llu items=%d\n", (unsigned long long)D_RO(root)->done, found);
	return 0;
}

int main(int argc, char **argv)
{
	PMEMobjpool *pop;
	int ret;

	if (argc >= 4 && strcmp(argv[1], "create") == 0) {
		pop = pmemobj_create(argv[2], POBJ_LAYOUT_NAME(dmap), 32 << 20, 0644);
		if (!pop) {
			fprintf(stderr, "pmemobj_create %s: %s\n", argv[2], pmemobj_errormsg());
			return 2;
		}
		ret = print_map(pop) || run(pop, atol(argv[3]));
	} else if (argc >= 3 && strcmp(argv[1], "check") == 0) {
		pop = pmemobj_open(argv[2], POBJ_LAYOUT_NAME(dmap));
		if (!pop) {
			fprintf(stderr, "pmemobj_open %s: %s\n", argv[2], pmemobj_errormsg());
			return 2;
		}
		ret = print_map(pop) || check(pop);
	} else {
		fprintf(stderr, "usage: dmap_pmemobj create POOL NTX | check POOL\n");
		return 2;
	}
	pmemobj_close(pop);
	return ret;
}
