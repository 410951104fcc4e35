/*
 * fuse_null.c - the FUSE ceiling (reference R0 of bench/fs/run.sh): a
 * low-level libfuse server that does as little as a server can while still
 * being a file system.  Its root directory holds up to NULL_MAX_FILES
 * regular files, each kept in its own anonymous mapping; writes are one
 * memcpy, reads reply straight from that memory, fsync and flush are
 * acknowledged.  It runs the same multithreaded loop with the same
 * max_write (1 MiB) as pmemfs-fuse, so what pmemfs costs above it is the
 * price of the file system itself, not of FUSE.
 *
 *   fuse_null MOUNTPOINT [-f] [-s] [-o opts] [-o file_cap=BYTES]
 */
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PROG "fuse_null"
#define NULL_MAX_FILES 8
#define NULL_FIRST_INO 2
#define NULL_MAX_IO (1u << 20) /* what pmemfs-fuse asks for too */

struct null_file {
	char name[256];
	int used;
	unsigned gen;
	size_t size;
	char *mem; /* cap bytes, populated at the first create of this slot */
	int populated;
	pthread_mutex_t lock; /* guards size only; data copies run unlocked */
};

struct null_fs {
	size_t cap;
	struct timespec born;
	pthread_mutex_t ns_lock; /* names: create, unlink, lookup */
	struct null_file files[NULL_MAX_FILES];
};

static struct null_fs *req_nfs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct null_file *ino_file(struct null_fs *nfs, fuse_ino_t ino)
{
	if (ino < NULL_FIRST_INO || ino >= NULL_FIRST_INO + NULL_MAX_FILES)
		return NULL;
	return &nfs->files[ino - NULL_FIRST_INO];
}

static void fill_stat(struct null_fs *nfs, fuse_ino_t ino, struct stat *st)
{
	struct null_file *f = ino_file(nfs, ino);

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atim = st->st_mtim = st->st_ctim = nfs->born;
	st->st_blksize = 4096;
	if (!f) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return;
	}
	pthread_mutex_lock(&f->lock);
	st->st_size = (off_t)f->size;
	pthread_mutex_unlock(&f->lock);
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_blocks = (st->st_size + 511) / 512;
}

static void fill_entry(struct null_fs *nfs, fuse_ino_t ino, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = ino_file(nfs, ino)->gen;
	e->attr_timeout = 1.0; /* pmemfs-fuse's defaults */
	e->entry_timeout = 1.0;
	fill_stat(nfs, ino, &e->attr);
}

/* Zeroes what an extension exposes, so it reads zeroes as POSIX wants;
 * the pages stay, populated, for the next writer. */
static void set_size(struct null_file *f, size_t size)
{
	pthread_mutex_lock(&f->lock);
	if (size > f->size)
		memset(f->mem + f->size, 0, size - f->size);
	f->size = size;
	pthread_mutex_unlock(&f->lock);
}

/*
 * A pmem device's memory all exists before the first write; fresh anonymous
 * pages would instead charge a page fault and a zeroing to every 4 KiB
 * written, and the ceiling would measure the page allocator.  So the whole
 * slot is populated once, when a file first takes it (before fio's clock).
 */
static void populate(struct null_fs *nfs, struct null_file *f)
{
	if (f->populated)
		return;
	if (madvise(f->mem, nfs->cap, MADV_POPULATE_WRITE) != 0)
		for (size_t off = 0; off < nfs->cap; off += 4096)
			f->mem[off] = 0; /* kernels before 5.14 */
	f->populated = 1;
}

static fuse_ino_t find_name(struct null_fs *nfs, const char *name)
{
	for (int i = 0; i < NULL_MAX_FILES; i++)
		if (nfs->files[i].used && strcmp(nfs->files[i].name, name) == 0)
			return NULL_FIRST_INO + (fuse_ino_t)i;
	return 0;
}

static void null_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = NULL_MAX_IO;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE; /* write-through, as pmemfs */
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct null_fs *nfs = req_nfs(req);
	struct fuse_entry_param e;
	fuse_ino_t ino;

	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	pthread_mutex_lock(&nfs->ns_lock);
	ino = find_name(nfs, name);
	if (ino)
		fill_entry(nfs, ino, &e);
	pthread_mutex_unlock(&nfs->ns_lock);
	if (ino)
		fuse_reply_entry(req, &e);
	else
		fuse_reply_err(req, ENOENT);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	fill_stat(req_nfs(req), ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void null_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			 struct fuse_file_info *fi)
{
	struct null_fs *nfs = req_nfs(req);
	struct null_file *f = ino_file(nfs, ino);
	struct stat st;

	(void)fi;
	if ((to_set & FUSE_SET_ATTR_SIZE) && f) {
		if ((size_t)attr->st_size > nfs->cap) {
			fuse_reply_err(req, EFBIG);
			return;
		}
		set_size(f, (size_t)attr->st_size);
	}
	/* Modes, owners and times are accepted and forgotten. */
	fill_stat(nfs, ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void null_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			struct fuse_file_info *fi)
{
	struct null_fs *nfs = req_nfs(req);
	struct fuse_entry_param e;
	fuse_ino_t ino;
	int err = 0;

	(void)mode;
	if (parent != FUSE_ROOT_ID || strlen(name) >= sizeof(nfs->files[0].name)) {
		fuse_reply_err(req, parent != FUSE_ROOT_ID ? ENOTDIR : ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&nfs->ns_lock);
	ino = find_name(nfs, name);
	for (int i = 0; !ino && i < NULL_MAX_FILES; i++) {
		struct null_file *f = &nfs->files[i];

		if (f->used)
			continue;
		strcpy(f->name, name);
		f->used = 1;
		f->gen++;
		set_size(f, 0);
		populate(nfs, f);
		ino = NULL_FIRST_INO + (fuse_ino_t)i;
	}
	if (ino)
		fill_entry(nfs, ino, &e);
	else
		err = ENOSPC; /* all slots taken: this server holds a few files */
	pthread_mutex_unlock(&nfs->ns_lock);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->keep_cache = 0;
	fuse_reply_create(req, &e, fi);
}

static void null_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct null_fs *nfs = req_nfs(req);
	fuse_ino_t ino;

	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	pthread_mutex_lock(&nfs->ns_lock);
	ino = find_name(nfs, name);
	if (ino) {
		struct null_file *f = ino_file(nfs, ino);

		set_size(f, 0);
		f->used = 0;
	}
	pthread_mutex_unlock(&nfs->ns_lock);
	fuse_reply_err(req, ino ? 0 : ENOENT);
}

static void null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!ino_file(req_nfs(req), ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct null_file *f = ino_file(req_nfs(req), ino);
	size_t fsize;

	(void)fi;
	pthread_mutex_lock(&f->lock);
	fsize = f->size;
	pthread_mutex_unlock(&f->lock);
	if ((size_t)off >= fsize)
		size = 0;
	else if (size > fsize - (size_t)off)
		size = fsize - (size_t)off;
	fuse_reply_buf(req, f->mem + off, size);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct null_fs *nfs = req_nfs(req);
	struct null_file *f = ino_file(nfs, ino);

	(void)fi;
	if ((size_t)off > nfs->cap || size > nfs->cap - (size_t)off) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	memcpy(f->mem + off, buf, size);
	pthread_mutex_lock(&f->lock);
	if ((size_t)off + size > f->size)
		f->size = (size_t)off + size;
	pthread_mutex_unlock(&f->lock);
	fuse_reply_write(req, size);
}

/* flush, fsync, release: nothing is ever buffered here. */
static void null_ack(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void null_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	null_ack(req, ino, fi);
}

static const struct fuse_lowlevel_ops null_ops = {
	.init = null_init,
	.lookup = null_lookup,
	.getattr = null_getattr,
	.setattr = null_setattr,
	.create = null_create,
	.unlink = null_unlink,
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.flush = null_ack,
	.release = null_ack,
	.fsync = null_fsync,
};

struct null_opts {
	unsigned long long cap;
};

static const struct fuse_opt null_optspec[] = {
	{ "file_cap=%llu", offsetof(struct null_opts, cap), 0 },
	FUSE_OPT_END,
};

static int alloc_files(struct null_fs *nfs)
{
	clock_gettime(CLOCK_REALTIME, &nfs->born);
	pthread_mutex_init(&nfs->ns_lock, NULL);
	for (int i = 0; i < NULL_MAX_FILES; i++) {
		struct null_file *f = &nfs->files[i];

		/* MAP_NORESERVE: only the pages written cost memory. */
		f->mem = mmap(NULL, nfs->cap, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (f->mem == MAP_FAILED)
			return -1;
		pthread_mutex_init(&f->lock, NULL);
	}
	return 0;
}

static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *cmd)
{
	struct fuse_loop_config *config;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	/* The same loop and knobs as pmemfs-fuse's fuse_main.c. */
	config = fuse_loop_cfg_create();
	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, (unsigned)cmd->clone_fd);
	fuse_loop_cfg_set_idle_threads(config, cmd->max_idle_threads);
	fuse_loop_cfg_set_max_threads(config, cmd->max_threads);
	ret = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	return ret;
}

static void usage(const char *prog)
{
	printf("usage: %s MOUNTPOINT [-f] [-s] [-o option[,option...]]\n\n"
	       "A do-nothing FUSE file system: the FUSE ceiling for bench/fs/run.sh.\n"
	       "Its root holds up to %d files in anonymous memory (lost at unmount).\n\n"
	       "    -o file_cap=BYTES   largest size of one file (default 1 GiB); each\n"
	       "                        file created populates this much memory\n\n",
	       prog, NULL_MAX_FILES);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct null_opts nopts = { .cap = 1ULL << 30 };
	struct fuse_cmdline_opts cmd;
	struct fuse_session *se;
	static struct null_fs nfs;
	int ret = 1;

	if (fuse_opt_parse(&args, &nopts, null_optspec, NULL) != 0 ||
	    fuse_parse_cmdline(&args, &cmd) != 0) {
		fprintf(stderr, "%s: parsing the command line: bad option (see --help)\n", PROG);
		return 1;
	}
	if (cmd.show_help || cmd.show_version) {
		usage(argv[0]);
		return 0;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "%s: missing MOUNTPOINT: see --help\n", PROG);
		return 1;
	}
	nfs.cap = nopts.cap;
	if (alloc_files(&nfs) != 0) {
		perror(PROG ": reserving file memory");
		goto out_args;
	}
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), &nfs);
	if (!se) {
		fprintf(stderr, "%s: starting a FUSE session: bad -o option?\n", PROG);
		goto out_args;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "%s: installing signal handlers failed\n", PROG);
		goto out_session;
	}
	if (fuse_session_mount(se, cmd.mountpoint) != 0) {
		fprintf(stderr, "%s: mounting on %s: the kernel refused\n", PROG, cmd.mountpoint);
		goto out_signals;
	}
	fuse_daemonize(cmd.foreground);
	ret = serve(se, &cmd) < 0 ? 1 : 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
