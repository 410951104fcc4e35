/*
 * fuse_main.c - pmemfs-fuse: mounts the core on a device, serves it through
 * /dev/fuse with libfuse's multithreaded low-level loop, and unmounts
 * cleanly (setting the clean flag) on umount, SIGTERM, SIGINT or SIGHUP.
 *
 *   pmemfs-fuse DEVICE MOUNTPOINT [-f] [-d] [-o opts]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse_args.h"
#include "fuse_daemon.h"
#include "fuse_io.h"
#include "fuse_logging.h"
#include "fuse_dmap.h"
#include "fuse_ops.h"
#include "fuse_splice.h"
#include "fuse_uring.h"

/* Turns the core's mount errors into something a user can act on. */
static void explain_mount_error(const char *device, int err)
{
	const char *why;

	switch (err) {
	case ENOENT:
		why = "no such device or file";
		break;
	case EBUSY:
	case EAGAIN:
		why = "device in use (is another pmemfs-fuse serving it?)";
		break;
	case EINVAL:
	case EBADMSG:
	case EUCLEAN:
		why = "no valid pmemfs file system on it (format it with mkfs.pmemfs, or "
		      "check it with fsck.pmemfs)";
		break;
	case ENODEV:
	case ENOTBLK:
		why = "neither a device-DAX namespace nor a regular file";
		break;
	case EPROTONOSUPPORT:
	case EOPNOTSUPP:
		why = "the file system has a newer format version or features this "
		      "pmemfs-fuse does not support; upgrade pmemfs";
		break;
	case EROFS:
		why = "it can only be mounted read-only (-o ro)";
		break;
	default:
		why = strerror(err);
		break;
	}
	pmfs_fuse_log(PMFS_LOG_ERR, "cannot mount %s: %s (%s)", device, why, strerror(err));
}

static void log_mount_info(const char *device, const struct pmfs_mount_info *info)
{
	if (!info->was_clean)
		pmfs_fuse_log(PMFS_LOG_WARN,
			      "%s was not unmounted cleanly: recovery replayed %u journal "
			      "transactions and freed %u orphan inodes",
			      device, info->journal_replayed, info->orphans_freed);
	pmfs_fuse_log(PMFS_LOG_DEBUG, "mounted %s: %llu MiB, %s, alignment %llu KiB", device,
		      (unsigned long long)(info->device_size >> 20),
		      info->is_devdax ? "device-DAX" : "emulation file",
		      (unsigned long long)(info->device_align >> 10));
}

static int run_loop(struct fuse_session *se, const struct fuse_cmdline_opts *cmd)
{
	struct fuse_loop_config *config;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	config = fuse_loop_cfg_create();
	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, (unsigned)cmd->clone_fd);
	/* UINT_MAX means "not given"; libfuse 3.14 warns if it is passed on. */
	if (cmd->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(config, cmd->max_idle_threads);
	fuse_loop_cfg_set_max_threads(config, cmd->max_threads);
	ret = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	return ret;
}

/*
 * The kernel gives a FUSE mount 128 KiB of read-ahead and FUSE_INIT can
 * only lower it, so a 1 MiB read() became 8 READ requests of 128 KiB.
 * 1 MiB (PMFS_FUSE_MAX_IO, the largest READ) makes it one.  Measured on a
 * cold 1 GiB file: 8192 → 1024 READs.  Best effort: only root may write
 * the bdi's sysfs knob, and the mount works without it.
 */
static void raise_readahead(const char *realmnt)
{
	if (pmfs_fuse_set_readahead(realmnt, PMFS_FUSE_MAX_IO >> 10) != 0)
		pmfs_fuse_log(PMFS_LOG_DEBUG, "read-ahead left at the kernel's default");
}

/* libfuse 3.14's request buffer: FUSE_MAX_MAX_PAGES pages + one of header. */
#define LIBFUSE_BUFSIZE ((256u << 12) + 4096u)

/* Splice needs pipes as large as a request (fuse_splice.c); best effort. */
static void prepare_splice(void)
{
	unsigned long old;

	if (pmfs_fuse_splice_prepare(LIBFUSE_BUFSIZE, &old) != 0)
		pmfs_fuse_log(PMFS_LOG_INFO, "pipes cannot hold a 1 MiB request: WRITE data "
					     "is read with an extra copy (no splice)");
	else if (old)
		pmfs_fuse_log(PMFS_LOG_INFO, "raised fs.pipe-max-size from %lu for splice",
			      old);
}

/* Mounted core → FUSE session → kernel mount → loop → teardown. */
static int serve(struct pmfs_fuse_args *args, struct pmfs_fuse *pf)
{
	char realmnt[PATH_MAX];
	bool have_real;
	int ret;

	pf->se = fuse_session_new(&args->fuse, &pmfs_fuse_ops, sizeof(pmfs_fuse_ops), pf);
	if (!pf->se) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot start a FUSE session (bad -o option?)");
		return -1;
	}
	if (fuse_set_signal_handlers(pf->se) != 0) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot install signal handlers");
		fuse_session_destroy(pf->se);
		return -1;
	}
	/* Before mounting: the kernel offers io_uring in FUSE_INIT only if
	 * its switch is on when the mount is made. */
	pmfs_fuse_uring_prepare(!args->no_uring && !args->cmd.singlethread, args->spin_us);
	/* Before mounting: afterwards the lookup would wait for this daemon. */
	have_real = realpath(args->cmd.mountpoint, realmnt) != NULL;
	if (fuse_session_mount(pf->se, args->cmd.mountpoint) != 0) {
		pmfs_fuse_log(PMFS_LOG_ERR, "cannot mount on %s: the kernel refused (see above)",
			      args->cmd.mountpoint);
		fuse_remove_signal_handlers(pf->se);
		fuse_session_destroy(pf->se);
		return -1;
	}
	/* After the mount (it takes the session's fd), before FUSE_INIT. */
	if (pmfs_fuse_io_install(pf->se) != 0)
		pmfs_fuse_log(PMFS_LOG_WARN, "cannot hook /dev/fuse I/O: every write asks "
					     "for security.capability first");
	/* Before the loop, which answers INIT. */
	pmfs_fuse_uring_setup(pf->se);
	if (have_real)
		raise_readahead(realmnt);
	prepare_splice();
	pmfs_fuse_detach_done(0);
	ret = run_loop(pf->se, &args->cmd);
	fuse_session_unmount(pf->se);
	/* The queue threads run requests on the session: gone before it is. */
	pmfs_fuse_uring_stop();
	fuse_remove_signal_handlers(pf->se);
	fuse_session_destroy(pf->se);
	if (ret < 0)
		pmfs_fuse_log(PMFS_LOG_ERR, "session loop failed: %s", strerror(-ret));
	return ret < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	/* umount(8) returns before the old daemon has unmapped the device and
	 * dropped its lock, so "umount; pmemfs-fuse" found it busy: wait for
	 * the lock, as mkfs and fsck do. */
	struct pmfs_mount_opts mopts = {.log = pmfs_fuse_core_log, .busy_wait_ms = 3000};
	struct pmfs_mount_info info = {0};
	struct pmfs_fuse_args args;
	struct pmfs_fuse pf = {0};
	int ret;

	pmfs_fuse_log_capture_libfuse();
	ret = pmfs_fuse_parse_args(argc, argv, &args);
	if (ret != 0) {
		pmfs_fuse_free_args(&args);
		return ret > 0 ? 0 : 1;
	}
	pmfs_fuse_log_set_debug(args.cmd.debug);
	if (pmfs_fuse_check_mountpoint(args.cmd.mountpoint) != 0)
		goto fail;
	if (!args.cmd.foreground && pmfs_fuse_detach_start() != 0)
		goto fail;

	mopts.read_only = args.read_only;
	ret = pmfs_mount(args.device, &mopts, &pf.fs, &info);
	if (ret < 0) {
		explain_mount_error(args.device, -ret);
		goto fail;
	}
	log_mount_info(args.device, &info);
	pmfs_fuse_splice_set_backing(info.is_devdax);
	pf.read_only = args.read_only;
	pf.writeback_cache = args.writeback_cache;
	pf.attr_timeout = args.attr_timeout;
	pf.entry_timeout = args.entry_timeout;
	pf.kernel_permissions = args.default_permissions;
	pf.single_user = !args.allow_other;
	pf.mounter = getuid();
	pf.one_thread = args.cmd.singlethread;
	pf.direct_io = !args.page_cache;

	ret = serve(&args, &pf);
	pmfs_fuse_dmap_shutdown(&pf);
	if (pmfs_unmount(pf.fs) < 0) {
		pmfs_fuse_log(PMFS_LOG_ERR, "unmounting %s failed: the next mount will recover",
			      args.device);
		ret = -1;
	} else if (ret == 0) {
		pmfs_fuse_log(PMFS_LOG_INFO, "unmounted %s cleanly", args.device);
	}
	pmfs_fuse_detach_done(1); /* no-op unless serve() failed before detaching */
	pmfs_fuse_free_args(&args);
	return ret == 0 ? 0 : 1;
fail:
	pmfs_fuse_detach_done(1);
	pmfs_fuse_free_args(&args);
	return 1;
}
