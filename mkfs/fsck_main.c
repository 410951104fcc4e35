/*
 * fsck_main.c - fsck.pmemfs: the command line over pmfs_fsck() (fs/fsck.c).
 * Exit codes are e2fsck's: 0 clean, 1 errors fixed, 4 errors left,
 * 8 operational error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "fsck.h"
#include "media.h"

static const char *prog = "fsck.pmemfs";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [-n | -y | -p | -a] [-f] DEVICE|FILE\n"
		"Check (and repair) an unmounted pmemfs.\n\n"
		"  -n, --no            check only, change nothing (the default)\n"
		"  -y, --yes           repair what is safe: replay the journal, restore a\n"
		"                      superblock, fix link counts, '..', hashes and types,\n"
		"                      free unreachable inodes and leaked blocks, rebuild\n"
		"                      the bitmap and the orphan list\n"
		"  -p, -a              the same as -y (for fsck(8) at boot)\n"
		"  -f, --force         check even if the file system is marked clean\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n\n"
		"Exit status: 0 clean, 1 errors fixed, 4 errors left, 8 operational error.\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"no", no_argument, NULL, 'n'},	 {"yes", no_argument, NULL, 'y'},
	    {"force", no_argument, NULL, 'f'},	 {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
	};
	/* umount returns before the daemon lets go of the device: give it 3 s */
	struct pmfs_fsck_opts opts = {.busy_wait_ms = 3000};
	struct pmfs_fsck_report rep;
	bool no = false;
	int c, code;

	while ((c = getopt_long(argc, argv, "nypafhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			no = true;
			break;
		case 'y':
		case 'p':
		case 'a':
			opts.repair = true;
			break;
		case 'f':
			opts.force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s (format version %u)\n", prog, PMEMFS_VERSION,
			       PMFS_FORMAT_VERSION);
			return 0;
		default:
			usage(stderr);
			return PMFS_FSCK_OPERROR;
		}
	}
	if (no && opts.repair) {
		fprintf(stderr, "%s: -n and -y exclude each other\n", prog);
		return PMFS_FSCK_OPERROR;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one DEVICE or FILE (see --help)\n", prog);
		return PMFS_FSCK_OPERROR;
	}
	code = pmfs_fsck(argv[optind], &opts, &rep);
	if (code == PMFS_FSCK_OPERROR) {
		/* The report's last line says what failed. */
		fprintf(stderr, "%s: checking %s failed: %s", prog, argv[optind],
			rep.text && rep.text[0] ? rep.text : "out of memory\n");
	} else {
		fputs(rep.text, stdout);
	}
	pmfs_fsck_report_free(&rep);
	return code;
}
