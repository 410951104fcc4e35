/*
 * fuse_uring.c - FUSE over io_uring: the kernel queues each request on the
 * ring of the CPU its caller runs on, and that CPU's queue thread (pinned
 * there) runs it and commits the reply together with the fetch of the
 * next request, in one io_uring_enter.
 *
 * Why: on this VM a request through /dev/fuse wakes a daemon thread on the
 * other, idle CPU (a halted vCPU, woken by an IPI), and the reply wakes the
 * caller back across again.  With caller and server on one CPU, create,
 * stat and unlink ran twice as fast (fsmeta, both pinned to CPU 0:
 * 11.0k → 21.8k creates/s, 30.2k → 51.6k stats/s).  The rings give that
 * locality without pinning the callers.
 *
 * How a request runs: the kernel copies the fuse_in_header and the fixed
 * per-opcode struct into the entry's header buffer and the rest (names,
 * WRITE data) into its payload buffer.  The payload buffer has a page of
 * room in front of it, where those two headers are copied back, so that
 * libfuse's fuse_session_process_buf() sees one contiguous request, as
 * read(2) on /dev/fuse would give it, without copying the payload.  The
 * reply comes back through the session's writev hook (fuse_io.c), which
 * calls pmfs_fuse_uring_reply() on this thread: the out header goes to the
 * header buffer, the reply's data to the payload buffer, and the entry is
 * committed once the handler returns.  Every handler replies before it
 * returns (none keeps a fuse_req_t), which this relies on; one that did
 * not would get EIO (logged).
 *
 * The price: a READ reply is copied from the mapping into the payload
 * buffer, where /dev/fuse's writev let the kernel copy straight from the
 * mapping.  The copy runs under the SIGBUS guard (poison.c), so a media
 * error is EFAULT, as the writev's was.
 *
 * Polling (-o spin=USEC): after committing a reply, the queue thread
 * polls its ring for up to USEC (yielding the CPU on each turn) before it
 * sleeps.  Why: the commit wakes the caller while this thread still runs,
 * so the scheduler puts the caller on an idle CPU, a halted vCPU here,
 * and the caller's next request goes to that CPU's queue, whose thread
 * must be woken too: every round trip paid for waking a halted CPU.  While
 * a queue thread polls, its CPU is not idle, so the caller is woken where
 * it ran, runs at once (the poller yields to it), and its next request is
 * found by the poll.  fio 4 KiB random reads, one reader: 25k IOPS without,
 * 80k with 50 us.  The price is up to USEC of CPU after the last request of
 * a burst.  On a CPU other work keeps busy polling loses, and pauses
 * (poll_ring).
 *
 * Teardown: at unmount the kernel ends every waiting entry with ENOTCONN;
 * a queue thread exits when all of its entries have ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "badblocks.h"
#include "fuse_io.h"
#include "fuse_logging.h"
#include "fuse_uring.h"
#include "monotonic.h"

/* ---- Linux 6.14 uapi (include/uapi/linux/fuse.h), not in Debian 12's --- */
#define URING_IN_OUT_HEADER_SZ 128
#define URING_OP_IN_OUT_SZ 128

struct uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id; /* the request's unique, to pass back on commit */
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};

struct uring_req_header {
	char in_out[URING_IN_OUT_HEADER_SZ]; /* fuse_in_header / fuse_out_header */
	char op_in[URING_OP_IN_OUT_SZ];	     /* the opcode's fixed struct */
	struct uring_ent_in_out ent;
};

enum { URING_CMD_REGISTER = 1, URING_CMD_COMMIT_AND_FETCH = 2 };

/* In the 80-byte command area of a 128-byte SQE. */
struct uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

_Static_assert(sizeof(struct uring_req_header) == 288, "fuse_uring_req_header");
_Static_assert(sizeof(struct uring_cmd_req) == 24, "fuse_uring_cmd_req");

/* ---- our side ------------------------------------------------------------ */

/* Entries per queue: one runs while the kernel fills the others. */
#define QUEUE_DEPTH 4
/* The kernel wants payload buffers of max(max_write, max_pages pages):
 * 1 MiB here (fuse_ops.c's init). */
#define PAYLOAD_SIZE (1u << 20)
/* Room in front of the payload for the in header and op struct. */
#define PREFIX_SIZE 4096u
#define SLOT_SIZE (PREFIX_SIZE + PAYLOAD_SIZE)

struct ring_ent {
	struct uring_req_header hdr;
	struct iovec iov[2];
	char *payload;
	uint64_t commit_id;
	bool replied;
	bool live;	 /* not ended by the kernel */
	bool registered; /* the kernel took it (it sent a request) */
	unsigned retries;
};

struct ring_queue {
	pthread_t thread;
	uint64_t no_poll_until; /* CLOCK_MONOTONIC ns: see poll_ring */
	unsigned qid;
	int fd;
	struct io_uring ring;
	struct ring_ent ents[QUEUE_DEPTH];
	char *slots;
	unsigned live;
};

/* What the queue threads wait for after setting up their rings. */
enum go_state { GO_WAIT, GO_REGISTER, GO_CANCEL };

static struct {
	bool wanted;
	struct fuse_session *se;
	struct ring_queue *queues;
	unsigned nr_queues;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;	 /* queues whose rings are set up (under lock) */
	int setup_error; /* the first queue's failure (under lock) */
	enum go_state go;
	uint64_t spin_ns; /* how long a queue polls before it sleeps; 0: never */
	atomic_uint_fast64_t served;
	atomic_uint_fast64_t polled;	   /* requests found by polling */
	atomic_uint_fast64_t poll_pauses; /* polling paused for a busy CPU */
	atomic_bool warned_noreply;
	atomic_bool stopping;
} U = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* The entry whose request this thread is running, NULL outside one. */
static _Thread_local struct ring_ent *current_ent;

#define SYSFS_ENABLE "/sys/module/fuse/parameters/enable_uring"

void pmfs_fuse_uring_prepare(bool wanted, unsigned spin_us)
{
	char c = 0;
	int fd;

	U.wanted = false;
	U.spin_ns = (uint64_t)spin_us * 1000u;
	if (!wanted)
		return;
	fd = open(SYSFS_ENABLE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(SYSFS_ENABLE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pmfs_fuse_log(PMFS_LOG_DEBUG,
			      "kernel without FUSE over io_uring (no %s): serving /dev/fuse",
			      SYSFS_ENABLE);
		return;
	}
	if (pread(fd, &c, 1, 0) == 1 && c == 'N') {
		/* The switch only lets FUSE servers that ask for rings use
		 * them; nothing else on the system changes. */
		if (pwrite(fd, "Y", 1, 0) == 1) {
			pmfs_fuse_log(PMFS_LOG_INFO, "switched on FUSE over io_uring (%s)",
				      SYSFS_ENABLE);
			c = 'Y';
		} else {
			pmfs_fuse_log(PMFS_LOG_INFO,
				      "FUSE over io_uring is off (%s) and cannot be switched "
				      "on (needs root): serving /dev/fuse",
				      SYSFS_ENABLE);
		}
	}
	close(fd);
	U.wanted = c == 'Y';
}

bool pmfs_fuse_uring_wanted(void)
{
	return U.wanted;
}

/* Possible CPUs, as the kernel counts its queues (num_possible_cpus()). */
static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned lo = 0, hi = 0, n = 0;
	int c;

	if (!f)
		return (unsigned)sysconf(_SC_NPROCESSORS_CONF);
	/* "0-3", "0", or "0-1,4-5" */
	while (fscanf(f, "%u", &lo) == 1) {
		hi = lo;
		c = fgetc(f);
		if (c == '-' && fscanf(f, "%u", &hi) == 1)
			c = fgetc(f);
		n += hi >= lo ? hi - lo + 1 : 0;
		if (c != ',')
			break;
	}
	fclose(f);
	return n ? n : (unsigned)sysconf(_SC_NPROCESSORS_CONF);
}

static struct io_uring_sqe *cmd_sqe(struct ring_queue *q, struct ring_ent *e, uint32_t op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct uring_cmd_req *req;

	if (!sqe)
		return NULL;
	memset(sqe, 0, 128); /* SQE128: the command area is the second half */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->fd;
	sqe->cmd_op = op;
	sqe->user_data = (uintptr_t)e;
	req = (struct uring_cmd_req *)(void *)sqe->cmd;
	req->qid = (uint16_t)q->qid;
	req->commit_id = op == URING_CMD_COMMIT_AND_FETCH ? e->commit_id : 0;
	if (op == URING_CMD_REGISTER) {
		sqe->addr = (uintptr_t)e->iov;
		sqe->len = 2;
	}
	return sqe;
}

/*
 * Starts fn(arg) with the process's signals blocked: SIGTERM and friends
 * end the session and belong to libfuse's threads.  Faults (SIGBUS from a
 * poisoned page, poison.c) are synchronous and stay deliverable.  0 or
 * -errno.
 */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -ret;
}

/* A reply for a request whose handler gave none, or whose reply failed. */
static void set_error_reply(struct ring_ent *e, int err)
{
	struct fuse_out_header out = {
	    .len = sizeof(out), .error = -err, .unique = e->commit_id};

	memcpy(e->hdr.in_out, &out, sizeof(out));
	e->hdr.ent.payload_sz = 0;
	e->replied = true;
}

/* ---- notifications from queue threads -------------------------------------
 *
 * A queue thread must never wait on the kernel: requests from its CPU
 * queue up behind it.  Invalidating a name takes the directory's lock, and
 * invalidating pages takes page locks, which a caller may hold while it
 * waits for a request queued on that very thread.  Those notifications
 * are handed to one notifier thread, in order, which writes them to
 * /dev/fuse.  The ops send them after their reply (fuse_ops.c), so losing
 * the order against the reply changes nothing.  Dropping an inode's
 * cached attributes takes no lock and stays synchronous: write_reply()
 * relies on it preceding the reply.
 */
struct note {
	struct note *next;
	size_t len;
	char data[];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct note *head, **tail;
	pthread_t thread;
	bool started, stop;
} N = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .tail = &N.head};

static void *notifier_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&N.lock);
	for (;;) {
		struct note *n = N.head;

		if (!n) {
			if (N.stop)
				break;
			pthread_cond_wait(&N.cond, &N.lock);
			continue;
		}
		N.head = n->next;
		if (!N.head)
			N.tail = &N.head;
		pthread_mutex_unlock(&N.lock);
		/* ENOENT: the kernel no longer has the inode or name */
		if (write(fuse_session_fd(U.se), n->data, n->len) < 0 && errno != ENOENT &&
		    errno != ENOTCONN && errno != EBADF)
			pmfs_fuse_log(PMFS_LOG_DEBUG, "notification: %s", strerror(errno));
		free(n);
		pthread_mutex_lock(&N.lock);
	}
	pthread_mutex_unlock(&N.lock);
	return NULL;
}

/* Queues a notification for the notifier; false if it cannot (no memory
 * or no thread: the caller then sends it itself). */
static bool defer_notification(const struct iovec *iov, int count, size_t total)
{
	struct note *n = malloc(sizeof(*n) + total);
	size_t at = 0;
	bool ok = true;

	if (!n)
		return false;
	for (int i = 0; i < count; i++) {
		memcpy(n->data + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	n->len = total;
	n->next = NULL;
	pthread_mutex_lock(&N.lock);
	if (!N.started && !N.stop)
		N.started = start_thread(&N.thread, notifier_thread, NULL) == 0;
	if (N.started && !N.stop) {
		*N.tail = n;
		N.tail = &n->next;
		pthread_cond_signal(&N.cond);
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&N.lock);
	if (!ok)
		free(n);
	return ok;
}

static void notifier_stop(void)
{
	pthread_mutex_lock(&N.lock);
	N.stop = true;
	pthread_cond_signal(&N.cond);
	pthread_mutex_unlock(&N.lock);
	if (N.started)
		pthread_join(N.thread, NULL);
	N.started = false;
}

/* Only FUSE_NOTIFY_INVAL_INODE with a negative offset (attributes only)
 * cannot wait on a lock. */
static bool notification_may_block(const struct fuse_out_header *out, const struct iovec *iov,
				   int count)
{
	const struct fuse_notify_inval_inode_out *arg;

	if (out->error != FUSE_NOTIFY_INVAL_INODE || count < 2 || iov[1].iov_len < sizeof(*arg))
		return true;
	arg = iov[1].iov_base;
	return arg->off >= 0;
}

ssize_t pmfs_fuse_uring_reply(const struct iovec *iov, int count)
{
	struct ring_ent *e = current_ent;
	const struct fuse_out_header *out;
	size_t total = 0;

	if (!e || count < 1 || iov[0].iov_len < sizeof(*out))
		return -2;
	out = iov[0].iov_base;
	if (out->unique == 0) {
		if (!notification_may_block(out, iov, count))
			return -2;
		for (int i = 0; i < count; i++)
			total += iov[i].iov_len;
		return defer_notification(iov, count, total) ? (ssize_t)total : -2;
	}
	if (out->unique != e->commit_id || e->replied)
		return -2; /* not this request's */
	for (int i = 1; i < count; i++) {
		if (iov[i].iov_len > PAYLOAD_SIZE - total) {
			set_error_reply(e, EIO);
			errno = EINVAL;
			return -1;
		}
		/* A READ reply's iovecs point into the device: a poisoned
		 * page faults here, and the caller probes it (fuse_ops.c). */
		if (pmfs_guarded_memcpy(e->payload + total, iov[i].iov_base, iov[i].iov_len) !=
		    0) {
			set_error_reply(e, EIO);
			errno = EFAULT;
			return -1;
		}
		total += iov[i].iov_len;
	}
	memcpy(e->hdr.in_out, out, sizeof(*out));
	e->hdr.ent.payload_sz = (uint32_t)total;
	e->replied = true;
	return (ssize_t)(sizeof(*out) + total);
}

/*
 * Puts the request back together in front of the payload and runs it.
 * Returns false if the kernel's header makes no sense (the entry then
 * answers EIO).
 */
static bool run_request(struct ring_ent *e)
{
	struct fuse_in_header in;
	uint32_t psz = e->hdr.ent.payload_sz;
	size_t opsz;
	char *start;
	struct fuse_buf fb = {0};

	memcpy(&in, e->hdr.in_out, sizeof(in));
	e->commit_id = e->hdr.ent.commit_id;
	e->replied = false;
	if (psz > PAYLOAD_SIZE || in.len < sizeof(in) + psz ||
	    (opsz = in.len - sizeof(in) - psz) > URING_OP_IN_OUT_SZ)
		return false;
	start = e->payload - opsz - sizeof(in);
	memcpy(start, &in, sizeof(in));
	memcpy(start + sizeof(in), e->hdr.op_in, opsz);
	fb.mem = start;
	fb.size = in.len;
	pmfs_fuse_io_note_request(start, in.len);
	current_ent = e;
	fuse_session_process_buf(U.se, &fb);
	current_ent = NULL;
	atomic_fetch_add_explicit(&U.served, 1, memory_order_relaxed);
	return true;
}

/* REGISTER before the kernel has taken the INIT reply fails with EAGAIN;
 * 200 retries of 1 ms cover the few microseconds that can take. */
#define REGISTER_RETRIES 200

static void entry_ended(struct ring_queue *q, struct ring_ent *e, int res)
{
	/* ENOTCONN/ECANCELED/ENODEV: the mount is going away.  Anything
	 * else is the kernel refusing the entry. */
	if (res != -ENOTCONN && res != -ECANCELED && res != -ENODEV)
		pmfs_fuse_log(PMFS_LOG_INFO, "io_uring queue %u: %s: %s", q->qid,
			      e->registered ? "entry ended" : "register failed", strerror(-res));
	e->live = false;
	q->live--;
}

static void handle_cqe(struct ring_queue *q, struct ring_ent *e, int res)
{
	uint32_t next = URING_CMD_COMMIT_AND_FETCH;

	if (res == -EAGAIN && !e->registered && e->retries++ < REGISTER_RETRIES) {
		usleep(1000);
		next = URING_CMD_REGISTER;
	} else if (res < 0) {
		entry_ended(q, e, res);
		return;
	} else {
		e->registered = true;
		if (!run_request(e)) {
			pmfs_fuse_log(PMFS_LOG_ERR, "io_uring queue %u: malformed request header",
				      q->qid);
			set_error_reply(e, EIO);
		} else if (!e->replied) {
			if (!atomic_exchange(&U.warned_noreply, true))
				pmfs_fuse_log(PMFS_LOG_ERR, "a request on io_uring got no reply "
							    "from its handler: answered EIO");
			set_error_reply(e, EIO);
		}
	}
	if (!cmd_sqe(q, e, next))
		entry_ended(q, e, -ENOSPC); /* cannot happen: room for every entry */
}

static void pin_to_cpu(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* An offline CPU cannot be pinned to; its queue then serves
	 * whatever CPU the thread lands on (the kernel sends it nothing). */
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int queue_init(struct ring_queue *q)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	/* Task work (the kernel handing us a request) runs when this thread
	 * waits, not as an interrupt of whatever it is doing. */
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	ret = io_uring_queue_init_params(QUEUE_DEPTH * 2, &q->ring, &p);
	if (ret < 0) {
		q->ring.ring_fd = -1;
		return ret;
	}
	/* Untouched pages cost nothing: a queue that sees only metadata
	 * touches one page of each payload. */
	q->slots = mmap(NULL, (size_t)QUEUE_DEPTH * SLOT_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->slots == MAP_FAILED) {
		q->slots = NULL;
		io_uring_queue_exit(&q->ring);
		q->ring.ring_fd = -1; /* queue_free must not exit it again */
		return -ENOMEM;
	}
	for (unsigned i = 0; i < QUEUE_DEPTH; i++) {
		struct ring_ent *e = &q->ents[i];

		e->payload = q->slots + (size_t)i * SLOT_SIZE + PREFIX_SIZE;
		e->iov[0].iov_base = &e->hdr;
		e->iov[0].iov_len = sizeof(e->hdr);
		e->iov[1].iov_base = e->payload;
		e->iov[1].iov_len = PAYLOAD_SIZE;
	}
	return 0;
}

static void queue_free(struct ring_queue *q)
{
	if (q->ring.ring_fd > 0)
		io_uring_queue_exit(&q->ring);
	if (q->slots)
		munmap(q->slots, (size_t)QUEUE_DEPTH * SLOT_SIZE);
}

/* Tells setup how this queue's ring went, then waits for the INIT reply
 * (fuse_io.c).  False: the rings are not used; the thread ends. */
static bool wait_for_go(struct ring_queue *q)
{
	/* SINGLE_ISSUER: the ring must be made by the thread that submits */
	int ret = queue_init(q);
	bool go;

	pthread_mutex_lock(&U.lock);
	if (ret < 0 && !U.setup_error)
		U.setup_error = ret;
	U.ready++;
	pthread_cond_broadcast(&U.cond);
	while (U.go == GO_WAIT)
		pthread_cond_wait(&U.cond, &U.lock);
	go = U.go == GO_REGISTER && ret == 0;
	pthread_mutex_unlock(&U.lock);
	return go;
}

/*
 * A yield that took longer than this gave the CPU to something other than
 * the caller's next request (a caller hands over its next request within
 * microseconds; a CPU-bound task runs a slice, a millisecond or more).
 */
#define CONTENDED_NS 200000u
/* ...after which the queue sleeps at once for this long. */
#define CONTENDED_BACKOFF_NS 50000000u

/*
 * Submits the commits and polls for the next request for up to U.spin_ns
 * (see the top of the file).  sched_yield() both gives the CPU to the
 * woken caller and, on its way back, runs the task work by which the
 * kernel hands this ring a request (COOP_TASKRUN sends no interrupt).
 * True if a completion is ready.
 *
 * On a CPU that other work keeps busy, polling loses: the caller already
 * stays (no CPU is idle), and each yield pushes the poller behind the
 * other task, so a request that arrives meanwhile waits for its slice,
 * where a sleeping queue thread would have been woken for it (fsmeta
 * beside two CPU hogs: 20.2k creates/s without polling, 14.1k with).  So
 * a long yield turns polling off for CONTENDED_BACKOFF_NS.
 */
static bool poll_ring(struct ring_queue *q)
{
	uint64_t t = pmfs_monotonic_ns(), end, before;

	if (t < q->no_poll_until)
		return false;
	if (io_uring_submit(&q->ring) < 0)
		return false; /* the wait's submit reports it */
	end = t + U.spin_ns;
	do {
		if (io_uring_cq_ready(&q->ring))
			return true;
		before = t;
		sched_yield();
		t = pmfs_monotonic_ns();
		if (t - before > CONTENDED_NS) {
			q->no_poll_until = t + CONTENDED_BACKOFF_NS;
			atomic_fetch_add_explicit(&U.poll_pauses, 1, memory_order_relaxed);
			break;
		}
	} while (t < end);
	return io_uring_cq_ready(&q->ring) > 0;
}

static void *queue_thread(void *arg)
{
	struct ring_queue *q = arg;
	/* Wakes now and then to see whether the daemon is stopping while
	 * the kernel still holds the entries (a lazy unmount). */
	struct __kernel_timespec tick = {.tv_sec = 1};
	struct io_uring_cqe *cqe;
	bool busy = false; /* the last turn ran requests: poll before sleeping */

	pin_to_cpu(q->qid);
	if (!wait_for_go(q))
		return NULL;
	for (unsigned i = 0; i < QUEUE_DEPTH; i++) {
		q->ents[i].live = true;
		q->live++;
		cmd_sqe(q, &q->ents[i], URING_CMD_REGISTER);
	}
	while (q->live > 0 && !atomic_load(&U.stopping)) {
		unsigned head, n = 0;
		bool polled = busy && U.spin_ns && poll_ring(q);
		int ret = polled ? 0
				 : io_uring_submit_and_wait_timeout(&q->ring, &cqe, 1, &tick, NULL);

		if (ret < 0 && ret != -EINTR && ret != -ETIME && ret != -EAGAIN &&
		    ret != -EBUSY) {
			pmfs_fuse_log(PMFS_LOG_ERR, "io_uring queue %u: %s", q->qid,
				      strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			handle_cqe(q, io_uring_cqe_get_data(cqe), cqe->res);
			n++;
		}
		io_uring_cq_advance(&q->ring, n);
		busy = n > 0;
		if (polled)
			atomic_fetch_add_explicit(&U.polled, n, memory_order_relaxed);
	}
	return NULL;
}

int pmfs_fuse_uring_setup(struct fuse_session *se)
{
	unsigned n = possible_cpus();
	int ret = 0;

	if (!U.wanted)
		return 0;
	U.se = se;
	U.queues = calloc(n, sizeof(*U.queues));
	if (!U.queues)
		ret = -ENOMEM;
	for (unsigned i = 0; i < n && ret == 0; i++) {
		U.queues[i].qid = i;
		U.queues[i].fd = fuse_session_fd(se);
		ret = start_thread(&U.queues[i].thread, queue_thread, &U.queues[i]);
		if (ret == 0)
			U.nr_queues = i + 1;
	}
	pthread_mutex_lock(&U.lock);
	while (U.ready < U.nr_queues)
		pthread_cond_wait(&U.cond, &U.lock);
	if (ret == 0)
		ret = U.setup_error;
	pthread_mutex_unlock(&U.lock);
	if (ret < 0) {
		/* Asked for in INIT, the rings must work: the kernel holds every
		 * request until each CPU has a queue.  So without all of them
		 * the daemon does not ask. */
		pmfs_fuse_log(PMFS_LOG_WARN, "cannot set up io_uring queue %u of %u: %s: "
					     "serving /dev/fuse",
			      U.nr_queues, n, strerror(-ret));
		pmfs_fuse_uring_go(false);
		U.wanted = false;
		return ret;
	}
	pmfs_fuse_log(PMFS_LOG_DEBUG, "FUSE over io_uring: %u queues of %u entries", n,
		      QUEUE_DEPTH);
	return 0;
}

void pmfs_fuse_uring_go(bool use)
{
	pthread_mutex_lock(&U.lock);
	if (U.go == GO_WAIT)
		U.go = use ? GO_REGISTER : GO_CANCEL;
	pthread_cond_broadcast(&U.cond);
	pthread_mutex_unlock(&U.lock);
}

void pmfs_fuse_uring_stop(void)
{
	/* Normally the unmount has ended every entry and the threads are
	 * gone; if the kernel still holds some (a lazy unmount with files
	 * open), closing the rings cancels them, as closing /dev/fuse does. */
	atomic_store(&U.stopping, true);
	pmfs_fuse_uring_go(false); /* INIT never came */
	for (unsigned i = 0; i < U.nr_queues; i++) {
		pthread_join(U.queues[i].thread, NULL);
		queue_free(&U.queues[i]);
	}
	notifier_stop();
	if (atomic_load(&U.served))
		pmfs_fuse_log(PMFS_LOG_INFO,
			      "io_uring queues served %llu requests, %llu of them found by "
			      "polling; polling paused %llu times for a busy CPU",
			      (unsigned long long)atomic_load(&U.served),
			      (unsigned long long)atomic_load(&U.polled),
			      (unsigned long long)atomic_load(&U.poll_pauses));
	free(U.queues);
	U.queues = NULL;
	U.nr_queues = 0;
}
