/*
 * mkfs_main.c - mkfs.pmemfs: the command line over pmfs_mkfs() (fs/mkfs.c),
 * plus --list, which shows the machine's devdax namespaces.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foreign_fs.h"
#include "internal.h"
#include "mkfs.h"

static const char *prog = "mkfs.pmemfs";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [options] DEVICE|FILE\n"
		"Format a devdax namespace (/dev/daxX.Y) or an emulation file with pmemfs.\n\n"
		"  -s, --size SIZE     create or resize FILE to SIZE bytes (K, M, G, T suffixes)\n"
		"  -L, --label LABEL   file-system label (up to %d bytes)\n"
		"  -f, --force         overwrite an existing pmemfs or other file system\n"
		"  -N, --inodes N      number of inodes (default: one per 16 KiB)\n"
		"  -J, --journal-lanes N     journal lanes (default: by size, 16 from 256 MiB)\n"
		"  -B, --lane-size SIZE      bytes per journal lane (default: by size, 256K from 1 "
		"GiB)\n"
		"  -l, --list          list the devdax namespaces of this machine\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n",
		prog, PMFS_LABEL_MAX - 1);
}

/* "64M" -> 67108864.  Returns false on garbage or overflow. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || (shift && v > (~0ULL >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static int print_entry(void *ctx, const struct pmfs_devdax_entry *e)
{
	char bad[32] = "?";

	(void)ctx;
	if (e->bad_bytes >= 0)
		snprintf(bad, sizeof(bad), "%lld", (long long)e->bad_bytes);
	printf("%-14s %-14s %-10s %12llu  align %-8llu persistence %s  badblocks %s bytes\n",
	       e->path, e->name_space, e->region, (unsigned long long)e->size,
	       (unsigned long long)e->align,
	       e->persistence_domain[0] ? e->persistence_domain : "unknown", bad);
	return 0;
}

static int list_devdax(void)
{
	int n = pmfs_device_list(print_entry, NULL);

	if (n < 0) {
		fprintf(stderr, "%s: listing devdax namespaces failed: %s\n", prog, strerror(-n));
		return 1;
	}
	if (n == 0)
		printf("no devdax namespaces found\n");
	return 0;
}

struct foreign {
	const char *path;
	char what[128];
};

/* pmfs_mkfs_opts.before_write: after pmfs_mkfs's own checks, so that a
 * forced mkfs that is then refused (in use, too small) leaves them. */
static int wipe_foreign(void *arg, char *msg, size_t msg_size)
{
	const struct foreign *f = arg;
	int err = pmfs_wipe_foreign(f->path);

	if (err)
		snprintf(msg, msg_size, "erasing the signature of %s: %s", f->what,
			 strerror(-err));
	return err;
}

/*
 * Another file system or a partition table on the target: refused without
 * --force, as mkfs.xfs does; with it, its signatures are erased (by
 * wipe_foreign, through opts).  A pmemfs is fs/mkfs.c's check.  False: go
 * on and format.
 */
static bool refuse_foreign(struct foreign *f, struct pmfs_mkfs_opts *opts)
{
	if (pmfs_foreign_signature(f->path, f->what, sizeof(f->what)) <= 0)
		return false; /* none, or unreadable: pmfs_mkfs says why */
	if (!opts->force) {
		fprintf(stderr,
			"%s: formatting %s failed: it holds %s; use --force to overwrite it\n",
			prog, f->path, f->what);
		return true;
	}
	opts->before_write = wipe_foreign;
	opts->before_write_arg = f;
	return false;
}

static void print_geometry(const char *path, const struct pmfs_mkfs_result *res)
{
	const struct pmfs_super *sb = &res->sb;
	char uuid[40];
	const uint8_t *u = sb->uuid;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	printf("%s: pmemfs format version %u on %s (%s)\n", prog, sb->version, path,
	       res->is_devdax ? "devdax" : "file");
	printf("  uuid          %s\n", uuid);
	printf("  label         %.*s\n", PMFS_LABEL_MAX, sb->label);
	printf("  size          %llu blocks of %u bytes (%llu MiB)\n",
	       (unsigned long long)sb->total_blocks, sb->block_size,
	       (unsigned long long)(sb->total_blocks >> 8));
	printf("  alignment     %llu bytes\n", (unsigned long long)sb->device_align);
	printf("  journal       blocks %llu-%llu: %u lanes x %u KiB (max transaction %u bytes)\n",
	       (unsigned long long)sb->journal_start,
	       (unsigned long long)(sb->journal_start +
				    (uint64_t)sb->journal_lanes * sb->lane_blocks - 1),
	       sb->journal_lanes, sb->lane_blocks * 4,
	       sb->lane_blocks * PMFS_BLOCK_SIZE - PMFS_LANE_RECORDS_OFF);
	printf("  inode table   blocks %llu-%llu: %llu inodes\n",
	       (unsigned long long)sb->itable_start,
	       (unsigned long long)(sb->itable_start + sb->itable_blocks - 1),
	       (unsigned long long)(sb->inode_count - 1));
	printf("  bitmap        blocks %llu-%llu\n", (unsigned long long)sb->bitmap_start,
	       (unsigned long long)(sb->bitmap_start + sb->bitmap_blocks - 1));
	printf("  data          blocks %llu-%llu (%llu blocks)\n",
	       (unsigned long long)sb->data_start, (unsigned long long)(sb->total_blocks - 2),
	       (unsigned long long)(sb->total_blocks - 1 - sb->data_start));
	printf("  backup super  block %llu\n", (unsigned long long)(sb->total_blocks - 1));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"size", required_argument, NULL, 's'},
	    {"label", required_argument, NULL, 'L'},
	    {"force", no_argument, NULL, 'f'},
	    {"inodes", required_argument, NULL, 'N'},
	    {"journal-lanes", required_argument, NULL, 'J'},
	    {"lane-size", required_argument, NULL, 'B'},
	    {"list", no_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	/* umount returns before the daemon lets go of the device: give it 3 s */
	struct pmfs_mkfs_opts opts = {.busy_wait_ms = 3000};
	struct foreign foreign;
	struct pmfs_mkfs_result res;
	uint64_t v;
	int c, err;

	while ((c = getopt_long(argc, argv, "s:L:fN:J:B:lhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_size(optarg, &opts.size) || opts.size == 0) {
				fprintf(stderr,
					"%s: bad --size '%s': expected a number with "
					"an optional K, M, G or T suffix\n",
					prog, optarg);
				return 1;
			}
			break;
		case 'L':
			opts.label = optarg;
			break;
		case 'f':
			opts.force = true;
			break;
		case 'N':
			if (!parse_size(optarg, &opts.inodes) || opts.inodes == 0) {
				fprintf(stderr, "%s: bad --inodes '%s'\n", prog, optarg);
				return 1;
			}
			break;
		case 'J':
			if (!parse_size(optarg, &v) || v == 0 || v > PMFS_MAX_LANES) {
				fprintf(stderr, "%s: bad --journal-lanes '%s': expected 1..%u\n",
					prog, optarg, PMFS_MAX_LANES);
				return 1;
			}
			opts.journal_lanes = (uint32_t)v;
			break;
		case 'B':
			if (!parse_size(optarg, &v) || v < PMFS_MIN_LANE_BLOCKS * PMFS_BLOCK_SIZE ||
			    v % PMFS_BLOCK_SIZE || v / PMFS_BLOCK_SIZE > PMFS_MAX_LANE_BLOCKS) {
				fprintf(stderr,
					"%s: bad --lane-size '%s': expected a multiple of "
					"4K from %uK (the largest transaction) up to %uM\n",
					prog, optarg, PMFS_MIN_LANE_BLOCKS * 4,
					PMFS_MAX_LANE_BLOCKS / 256);
				return 1;
			}
			opts.lane_blocks = (uint32_t)(v / PMFS_BLOCK_SIZE);
			break;
		case 'l':
			return list_devdax();
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s (format version %u)\n", prog, PMEMFS_VERSION,
			       PMFS_FORMAT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one DEVICE or FILE (see --help)\n", prog);
		return 1;
	}
	foreign.path = argv[optind];
	if (refuse_foreign(&foreign, &opts))
		return 1;
	err = pmfs_mkfs(argv[optind], &opts, &res);
	if (err) {
		fprintf(stderr, "%s: formatting %s failed: %s\n", prog, argv[optind], res.msg);
		return 1;
	}
	print_geometry(argv[optind], &res);
	return 0;
}
