/*
 * fuzz_fsck.c - libFuzzer harness: fsck a small image built from the input
 * bytes, check-only (-n -f), then repairing (-y -f), then check-only again.
 * Besides "no crash, no hang, no out-of-bounds access", two promises are
 * checked: a repair that reports the file system clean (exit 0 or 1) leaves
 * nothing for the next check to find (exit 0), and such an image mounts
 * (read-only when it has an unknown ro_compat feature: -EROFS read-write).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsck.h"
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_fsck(const char *path, bool repair, char **text)
{
	struct pmfs_fsck_opts opts = { .repair = repair, .force = true };
	struct pmfs_fsck_report rep;
	int code = pmfs_fsck(path, &opts, &rep);

	if (text) {
		*text = rep.text;
		rep.text = NULL;
	}
	pmfs_fsck_report_free(&rep);
	return code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_image_from(data, size);
	char *repair_text = NULL, *check_text = NULL;
	struct pmfs *fs;
	int fixed, again, err;

	if (!path)
		return 0;
	run_fsck(path, false, NULL);
	fixed = run_fsck(path, true, &repair_text);
	again = run_fsck(path, false, &check_text);
	if ((fixed == PMFS_FSCK_CLEAN || fixed == PMFS_FSCK_FIXED) && again != PMFS_FSCK_CLEAN) {
		fprintf(stderr, "fsck -y returned %d (clean) but the next fsck -n returned %d\n"
			"--- fsck -y:\n%s\n--- fsck -n:\n%s\n", fixed, again,
			repair_text ? repair_text : "", check_text ? check_text : "");
		abort();
	}
	if (again == PMFS_FSCK_CLEAN) {
		struct pmfs_mount_opts ro = { .read_only = true };

		err = pmfs_mount(path, NULL, &fs, NULL);
		/* an unknown ro_compat feature: read-only mounts only */
		if (err == -EROFS)
			err = pmfs_mount(path, &ro, &fs, NULL);
		if (err) {
			fprintf(stderr, "fsck -n found the image clean but mount failed: %d\n", err);
			abort();
		}
		fuzz_walk(fs, PMFS_ROOT_INO, 0, 64);
		pmfs_unmount(fs);
	}
	free(repair_text);
	free(check_text);
	return 0;
}
