/*
 * fuse_args.c - parses pmemfs-fuse's command line with fuse_opt, the way
 * libfuse's examples do: our own options are taken out, the first
 * positional argument is the device, and the rest (the mountpoint, -f, -d,
 * libfuse's -o options) goes to fuse_parse_cmdline() and fuse_session_new().
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuse_args.h"
#include "fuse_logging.h"

enum { KEY_READ_ONLY, KEY_ALLOW_OTHER, KEY_POSITIONAL };

#define PMFS_OPT(templ, field, value)                                                              \
	{                                                                                          \
		templ, offsetof(struct pmfs_fuse_args, field), value                               \
	}

static const struct fuse_opt pmfs_opts[] = {
    PMFS_OPT("writeback_cache", writeback_cache, 1),
    PMFS_OPT("default_permissions", default_permissions, 1),
    PMFS_OPT("no_uring", no_uring, 1),
    PMFS_OPT("page_cache", page_cache, 1),
    PMFS_OPT("read_cache", page_cache, 1), /* its name until direct writes */
    PMFS_OPT("spin=%s", spin_arg, 0),
    PMFS_OPT("attr_timeout=%lf", attr_timeout, 0),
    PMFS_OPT("entry_timeout=%lf", entry_timeout, 0),
    FUSE_OPT_KEY("ro", KEY_READ_ONLY),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("allow_root", KEY_ALLOW_OTHER),
    FUSE_OPT_END,
};

static void print_usage(const char *prog)
{
	printf("usage: %s DEVICE MOUNTPOINT [-f] [-d] [-o option[,option...]]\n\n"
	       "Mounts the pmemfs file system on DEVICE (a device-DAX namespace such as\n"
	       "/dev/dax0.0, or an emulation file such as /dev/shm/pmemfs.img) at MOUNTPOINT.\n\n"
	       "pmemfs options:\n"
	       "    -o ro                  mount read-only\n"
	       "    -o writeback_cache     let the kernel cache writes: data is then durable\n"
	       "                           only after fsync() or close(), not at write()\n"
	       "    -o attr_timeout=SECS   kernel attribute cache timeout (default 1.0)\n"
	       "    -o entry_timeout=SECS  kernel name cache timeout (default 1.0)\n"
	       "    -o allow_other         let other users access the mount\n"
	       "    -o default_permissions let the kernel check permissions (the daemon\n"
	       "                           checks them otherwise; the kernel's checks cost a\n"
	       "                           GETATTR of the directory after each create/unlink;\n"
	       "                           implied by writeback_cache)\n"
	       "    -o no_uring            serve requests through /dev/fuse only (by default\n"
	       "                           they come through one io_uring queue per CPU where\n"
	       "                           the kernel has FUSE over io_uring; as root the\n"
	       "                           daemon switches on fuse.enable_uring for that)\n"
	       "    -o page_cache          every open goes through the kernel's page\n"
	       "                           cache (by default read-only and write-only opens,\n"
	       "                           and read-write opens of an empty file, go to the\n"
	       "                           device directly, like DAX; mappings always use\n"
	       "                           the page cache)\n"
	       "    -o spin=USEC           after a reply, an io_uring queue polls for the\n"
	       "                           next request this long before it sleeps, so\n"
	       "                           that the caller stays on its CPU (default 50,\n"
	       "                           0 to never poll, at most 10000)\n"
	       "    --version, -V          print the pmemfs and libfuse versions\n\n",
	       prog);
}

static int take_arg(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct pmfs_fuse_args *args = data;

	(void)outargs;
	switch (key) {
	case KEY_READ_ONLY:
		args->read_only = 1;
		return 1; /* the kernel mount is read-only too */
	case KEY_ALLOW_OTHER:
		args->allow_other = 1;
		return 1; /* for libfuse's mount */
	case FUSE_OPT_KEY_NONOPT:
		if (args->device)
			return 1; /* the mountpoint, for fuse_parse_cmdline */
		args->device = strdup(arg);
		return args->device ? 0 : -1;
	default:
		return 1;
	}
}

/*
 * fsname shows in mount(8) and df; subtype makes the type "fuse.pmemfs".
 * default_permissions is passed on only when asked for: by default the
 * daemon checks permissions itself (perm.c), which spares the kernel's
 * re-fetch of a directory's attributes after each change to it.
 */
static int add_default_options(struct pmfs_fuse_args *args)
{
	char *escaped = NULL;
	char *fsname;
	int ret;

	if ((args->default_permissions && fuse_opt_add_arg(&args->fuse, "-odefault_permissions")) ||
	    fuse_opt_add_arg(&args->fuse, "-osubtype=pmemfs"))
		return -1;
	if (fuse_opt_add_opt_escaped(&escaped, args->device))
		return -1;
	if (asprintf(&fsname, "-ofsname=%s", escaped) < 0) {
		free(escaped);
		return -1;
	}
	ret = fuse_opt_add_arg(&args->fuse, fsname);
	free(fsname);
	free(escaped);
	return ret;
}

static int parse_spin(const char *arg, unsigned *us)
{
	char *end;
	unsigned long v;

	if (*arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || v > PMFS_SPIN_US_MAX)
		return -1;
	*us = (unsigned)v;
	return 0;
}

int pmfs_fuse_parse_args(int argc, char **argv, struct pmfs_fuse_args *args)
{
	memset(args, 0, sizeof(*args));
	args->attr_timeout = 1.0;
	args->entry_timeout = 1.0;
	args->spin_us = PMFS_SPIN_US_DEFAULT;
	args->fuse = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);

	if (fuse_opt_parse(&args->fuse, args, pmfs_opts, take_arg) != 0)
		return -1;
	if (fuse_parse_cmdline(&args->fuse, &args->cmd) != 0)
		return -1;
	if (args->cmd.show_help) {
		print_usage(argv[0]);
		printf("libfuse options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return 1;
	}
	if (args->cmd.show_version) {
		printf("%s version %s\n", PMFS_FUSE_PROG, PMEMFS_VERSION);
		printf("libfuse version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		return 1;
	}
	if (!args->device || !args->cmd.mountpoint) {
		fprintf(stderr, "%s: missing %s\n", PMFS_FUSE_PROG,
			args->device ? "MOUNTPOINT" : "DEVICE and MOUNTPOINT");
		fprintf(stderr, "usage: %s DEVICE MOUNTPOINT [-f] [-d] [-o options]; see --help\n",
			PMFS_FUSE_PROG);
		return -1;
	}
	if (args->attr_timeout < 0 || args->entry_timeout < 0) {
		fprintf(stderr, "%s: bad option: timeouts must not be negative\n", PMFS_FUSE_PROG);
		return -1;
	}
	if (args->spin_arg && parse_spin(args->spin_arg, &args->spin_us) != 0) {
		fprintf(stderr, "%s: bad option: spin=%s: want microseconds, 0 to %u\n",
			PMFS_FUSE_PROG, args->spin_arg, PMFS_SPIN_US_MAX);
		return -1;
	}
	/* With the writeback cache the kernel sends utimes(NULL) as an
	 * explicit mtime (it keeps mtime itself), so the daemon could not
	 * tell "touch" by a writer (allowed) from explicit times by a
	 * non-owner (EPERM): the kernel checks instead. */
	if (args->writeback_cache)
		args->default_permissions = 1;
	if (add_default_options(args) != 0) {
		fprintf(stderr, "%s: parsing options: out of memory\n", PMFS_FUSE_PROG);
		return -1;
	}
	return 0;
}

void pmfs_fuse_free_args(struct pmfs_fuse_args *args)
{
	free(args->device);
	free(args->spin_arg);
	free(args->cmd.mountpoint);
	fuse_opt_free_args(&args->fuse);
}
