/*
 * poison.c - runtime media errors.  On pmem a device error is poisoned
 * memory: a load from a poisoned line raises a machine check, delivered to
 * the process as SIGBUS (a load beyond the end of a truncated emulation
 * file gives the same signal, which is how the tests make one).  Device
 * data copies run under a per-thread guard: the SIGBUS handler jumps back
 * to the copy, which returns -EIO and records the block as bad.  Outside a
 * guard the signal keeps its default action: a poisoned metadata line is a
 * crash, and the journal recovers from crashes.
 *
 * Nothing here writes to the device; the bad list is DRAM (badblocks.c).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "badblocks.h"
#include "fault.h"
#include "persist.h"

/* The guard of the copy running on this thread, NULL outside one.
 * volatile: the stores must stay where they are around the guarded loads
 * (without a call in between, the compiler would drop the first one). */
static _Thread_local sigjmp_buf *volatile guard_env;
static _Thread_local void *volatile guard_addr;
/* The handler before ours (a sanitizer's or libFuzzer's reports the crash
 * with a stack trace): an unguarded SIGBUS goes on to it. */
static struct sigaction prev_action;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "pmemfs: SIGBUS (media error?) outside a guarded data copy: "
				  "stopping; the journal recovers at the next mount\n";
	sigjmp_buf *env = guard_env;

	if (env != NULL) {
		guard_env = NULL;
		guard_addr = si->si_addr;
		siglongjmp(*env, 1);
	}
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	if ((prev_action.sa_flags & SA_SIGINFO) && prev_action.sa_sigaction != NULL) {
		prev_action.sa_sigaction(sig, si, uc);
	} else if (!(prev_action.sa_flags & SA_SIGINFO) && prev_action.sa_handler != SIG_DFL &&
		   prev_action.sa_handler != SIG_IGN) {
		prev_action.sa_handler(sig);
	}
	/* default action: the signal is raised again (fatal once the handler
	 * returns); a faulting load would also fault again */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_once(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* SA_NODEFER: a jump out of the handler leaves SIGBUS unblocked, so
	 * the guard needs no signal-mask syscall per copy (sigsetjmp(env, 0)) */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &prev_action);
}

void pmfs_sigbus_install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install_once);
}

/*
 * Runs the statements after 'on_fault' under this thread's guard; if they
 * fault, 'on_fault' runs instead of the rest (guard_addr holds the faulting
 * address).  Variadic so that commas in the statements need no care.  A
 * macro, not a function taking a callback: the data copies run inside it
 * and stay inlined.  savemask 0: see SA_NODEFER above.  Nothing that
 * on_fault reads may change in the guarded part (read after a longjmp).
 */
#define GUARDED(on_fault, ...)                                                                     \
	do {                                                                                       \
		sigjmp_buf guard_env_;                                                             \
		if (sigsetjmp(guard_env_, 0) != 0) {                                               \
			on_fault;                                                                  \
		} else {                                                                           \
			guard_env = &guard_env_;                                                   \
			__VA_ARGS__;                                                               \
			guard_env = NULL;                                                          \
		}                                                                                  \
	} while (0)

static bool in_device(const struct pmfs *fs, const void *p, size_t n)
{
	const char *c = p;

	return fs->base != NULL && c >= fs->base && c < fs->base + fs->size &&
	       n <= (size_t)(fs->base + fs->size - c);
}

/* Records the block at addr (or the first block of the range, when the
 * kernel gave no address in it) as bad; -EIO. */
static int found_bad(struct pmfs *fs, const void *dev, size_t n, const void *addr)
{
	const char *p = in_device(fs, addr, 1) ? addr : dev;
	uint64_t blk = pmfs_offset_of(fs, p) >> PMFS_BLOCK_SHIFT;

	(void)n;
	if (fs->bad != NULL && pmfs_badblocks_add(fs->bad, blk, 1) != 0)
		pmfs_logf(fs, PMFS_LOG_ERR, "no memory to record bad block %llu",
			  (unsigned long long)blk);
	pmfs_logf(fs, PMFS_LOG_ERR,
		  "media error (SIGBUS) at device offset %llu, block %llu: I/O error for this "
		  "request; the block is kept out of use until unmount (run fsck.pmemfs)",
		  (unsigned long long)pmfs_offset_of(fs, p), (unsigned long long)blk);
	return -EIO;
}

int pmfs_media_check(struct pmfs *fs, const void *dev, size_t n)
{
	uint64_t first, last;

	if (n == 0 || !in_device(fs, dev, n))
		return 0;
	if (pmfs_fault_eio_hit())
		return -EIO;
	if (fs->bad == NULL)
		return 0;
	first = pmfs_offset_of(fs, dev) >> PMFS_BLOCK_SHIFT;
	last = (pmfs_offset_of(fs, dev) + n - 1) >> PMFS_BLOCK_SHIFT;
	return pmfs_badblocks_any(fs->bad, first, last - first + 1) ? -EIO : 0;
}

int pmfs_media_copy(struct pmfs *fs, enum pmfs_media_op op, void *dst, const void *src, size_t n)
{
	const void *dev = op == PMFS_MEDIA_READ ? src : dst;
	int err = pmfs_media_check(fs, dev, n);

	if (err)
		return err;
	GUARDED(return found_bad(fs, dev, n, guard_addr), {
		switch (op) {
		case PMFS_MEDIA_READ:
			memcpy(dst, src, n);
			break;
		case PMFS_MEDIA_WRITE_NT:
			pm_copy_nt(dst, src, n);
			break;
		case PMFS_MEDIA_WRITE:
			pm_copy(dst, src, n);
			break;
		case PMFS_MEDIA_ZERO:
			pm_set(dst, 0, n);
			break;
		}
	});
	return 0;
}

int pmfs_guarded_memcpy(void *dst, const void *src, size_t n)
{
	GUARDED(return -EFAULT, memcpy(dst, src, n));
	return 0;
}

int pmfs_media_fill(struct pmfs *fs, void *dev, size_t n,
		    int (*fill)(void *ctx, void *dst, size_t n), void *ctx)
{
	int err = pmfs_media_check(fs, dev, n);

	if (err)
		return err;
	GUARDED(return found_bad(fs, dev, n, guard_addr), err = fill(ctx, dev, n));
	if (err == -EFAULT) {
		/* the kernel's store into the mapping failed (a read(2) into
		 * it): find the page, and report a media error */
		struct iovec iov = {.iov_base = dev, .iov_len = n};

		pmfs_media_probe(fs, &iov, 1);
		err = -EIO;
	}
	return err;
}

/* Loads one byte of each page of [p, p + n) under the guard: NULL, or the
 * address that faulted. */
static const char *probe_pages(const char *p, size_t n)
{
	GUARDED(return guard_addr != NULL ? guard_addr : p, {
		for (size_t off = 0; off < n;
		     off += PMFS_BLOCK_SIZE - (uintptr_t)(p + off) % PMFS_BLOCK_SIZE)
			(void)*(const volatile char *)(p + off);
	});
	return NULL;
}

unsigned pmfs_media_probe(struct pmfs *fs, const struct iovec *iov, int iovcnt)
{
	unsigned bad = 0;

	for (int i = 0; i < iovcnt; i++) {
		const char *p = iov[i].iov_base, *end = p + iov[i].iov_len, *hit;

		if (!in_device(fs, p, iov[i].iov_len))
			continue;
		while (p < end && (hit = probe_pages(p, (size_t)(end - p))) != NULL) {
			if (hit < p || hit >= end)
				hit = p; /* no usable address: blame the first page */
			found_bad(fs, p, (size_t)(end - p), hit);
			bad++;
			/* go on after the page that faulted */
			p = hit + PMFS_BLOCK_SIZE - (uintptr_t)hit % PMFS_BLOCK_SIZE;
		}
	}
	return bad;
}
