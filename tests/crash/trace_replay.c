/*
 * trace_replay.c - rebuilds an image from a PMEM_TRACE_FILE trace and
 * compares it with the real one: the check that the recorder's file mode
 * sees every byte a process (mkfs.pmemfs, pmemfs-fuse) wrote through
 * libpmem, at the right offsets.
 *
 *   trace_replay TRACE BASE_IMAGE REAL_IMAGE
 *
 * BASE_IMAGE is the file before the traced run (e.g. all zeros), REAL_IMAGE
 * after it.  Prints the record counts; exits 1 if the replay differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

static unsigned char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;

	if (f && !fseek(f, 0, SEEK_END) && (*len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)*len + 1)) && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	if (!buf)
		perror(path);
	return buf;
}

int main(int argc, char **argv)
{
	long tlen, blen, rlen, diff = 0, first = -1;
	unsigned long count[5] = { 0 };
	unsigned char *trace, *img, *real;

	if (argc != 4) {
		fprintf(stderr, "usage: trace_replay TRACE BASE_IMAGE REAL_IMAGE\n");
		return 2;
	}
	trace = slurp(argv[1], &tlen);
	img = slurp(argv[2], &blen);
	real = slurp(argv[3], &rlen);
	if (!trace || !img || !real || blen != rlen)
		return 2;
	for (long p = 0; p + (long)sizeof(struct pmem_trace_record) <= tlen;) {
		struct pmem_trace_record r;

		memcpy(&r, trace + p, sizeof(r));
		p += (long)sizeof(r);
		if (r.len > (uint64_t)(tlen - p)) {
			fprintf(stderr, "trace_replay: truncated record at %ld\n", p);
			return 1;
		}
		if (r.kind < 5)
			count[r.kind]++;
		if ((r.kind == PMEM_TRACE_STORE || r.kind == PMEM_TRACE_FLUSH) &&
		    r.off + r.len <= (uint64_t)blen)
			memcpy(img + r.off, trace + p, r.len);
		p += (long)r.len;
	}
	for (long i = 0; i < blen; i++)
		if (img[i] != real[i] && diff++ == 0)
			first = i;
	printf("trace_replay: %lu stores, %lu flushes, %lu fences, %lu marks; %ld bytes differ",
	       count[PMEM_TRACE_STORE], count[PMEM_TRACE_FLUSH], count[PMEM_TRACE_FENCE],
	       count[PMEM_TRACE_MARK], diff);
	if (diff)
		printf(" (first at offset %ld)", first);
	printf("\n");
	return diff || !count[PMEM_TRACE_STORE] || !count[PMEM_TRACE_FENCE] ? 1 : 0;
}
