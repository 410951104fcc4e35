/*
 * explore.c - the crash-state explorer (Chipmunk-style), built with
 * -Dpersist_trace=true.  For each workload (explore_ops.c) it prepares a
 * tree, remounts, records the operation with libpmem's persist trace, and
 * rebuilds from the trace the images a power failure could leave:
 *
 *  - the state at every fence (all flushed lines before it are durable);
 *  - between two fences, the last fence's state plus every subset of up to
 *    K of the cache lines written or flushed since (in flight: x86 may
 *    write back any of them in any order), each with its latest value.
 *    When a window has more subsets than BUDGET, BUDGET of them are drawn
 *    at random (seeded; all singletons first).
 *
 * Each image must mount (recovery), equal the tree before or after the
 * operation (tree_sig.c), and, once unmounted, pass pmfs_fsck -n -f.  The
 * trace itself is checked too: replaying its stores and flushes over the
 * image before the operation must give the image after it, byte for byte;
 * a difference is a store that escaped libpmem (an untraced plain store).
 *
 * Environment: CRASH_K (default 2), CRASH_BUDGET (states per window,
 * default 128), CRASH_SEED (default 1), CRASH_ONLY (run one workload),
 * CRASH_KEEP=dir (save each violating image there).  Nightly: CRASH_K=3
 * CRASH_BUDGET=100000.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explore_ops.h"
#include "fsck.h"
#include "internal.h"
#include "mkfs.h"
#include "trace.h"
#include "tree_sig.h"

#define IMAGE_SIZE (4u << 20)
#define LINE 64u
#define NLINES (IMAGE_SIZE / LINE)
#define MAX_K 8

enum { L_NONE, L_WRITTEN, L_FLUSHED, L_FLUSHED_REWRITTEN };

struct explorer {
	const struct workload *w;
	char *before_sig, *after_sig;
	uint8_t *mixed_before, *mixed_after; /* w->mixed's contents */
	ssize_t mixed_bsize, mixed_asize;
	uint8_t *persisted;	/* durable after the last fence */
	uint8_t *cur;		/* latest values (what the CPU sees) */
	uint8_t *flushed;	/* value of each line when last flushed */
	uint8_t *img;		/* scratch for one crash image */
	uint8_t *lstate;	/* per line: L_* */
	uint32_t *window;	/* lines touched since the last fence */
	unsigned nwindow;
	unsigned fence;		/* fences seen so far */
	uint64_t rng;
	/* results */
	unsigned long states, violations;
};

static unsigned k_max = 2, budget = 128;
static const char *keep_dir;
static char crash_path[96];

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s += 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void violation(struct explorer *x, const uint32_t *subset, unsigned n, const char *what,
		      const char *detail)
{
	char lines[256] = "";
	size_t pos = 0;

	for (unsigned i = 0; i < n && pos < sizeof(lines) - 24; i++)
		pos += (size_t)snprintf(lines + pos, sizeof(lines) - pos, "%s0x%llx", i ? "," : "",
					(unsigned long long)subset[i] * LINE);
	x->violations++;
	printf("VIOLATION %s: after fence %u, in-flight lines {%s}: %s\n", x->w->name, x->fence,
	       lines, what);
	if (detail)
		printf("%s\n", detail);
	printf("  reproduce: CRASH_ONLY=%s CRASH_K=%u CRASH_BUDGET=%u\n", x->w->name, k_max, budget);
	if (keep_dir) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s-f%u-%lu.img", keep_dir, x->w->name, x->fence,
			 x->violations);
		if (!write_file(path, x->img, IMAGE_SIZE))
			printf("  image: %s\n", path);
	}
}

/* Reads the file at an absolute path ("/d1/g") whole; its size or -errno. */
static ssize_t read_path(struct pmfs *fs, const char *path, uint8_t **out)
{
	char buf[256], *save = NULL, *part;
	pmfs_ino_t ino = PMFS_ROOT_INO;
	struct stat st = { 0 };
	ssize_t n;
	int err;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if ((err = pmfs_lookup(fs, ino, part, &st)))
			return err;
		pmfs_forget(fs, st.st_ino, 1);
		ino = st.st_ino;
	}
	*out = malloc((size_t)st.st_size + 1);
	if (!*out)
		return -ENOMEM;
	n = pmfs_read(fs, ino, *out, (size_t)st.st_size, 0);
	if (n >= 0 && n != st.st_size)
		n = -EIO;
	return n;
}

/* Each byte of the overwritten file is its old or its new value. */
static void check_mixed(struct explorer *x, struct pmfs *fs, const uint32_t *subset, unsigned n)
{
	uint8_t *got = NULL;
	ssize_t size = read_path(fs, x->w->mixed, &got);
	char why[160];

	if (size != x->mixed_bsize && size != x->mixed_asize) {
		snprintf(why, sizeof(why), "%s: size %zd is neither %zd (before) nor %zd (after)",
			 x->w->mixed, size, x->mixed_bsize, x->mixed_asize);
		violation(x, subset, n, why, NULL);
	}
	for (ssize_t i = 0; i < size; i++) {
		uint8_t b = i < x->mixed_bsize ? x->mixed_before[i] : 0;
		uint8_t a = i < x->mixed_asize ? x->mixed_after[i] : 0;

		if (got[i] != b && got[i] != a) {
			snprintf(why, sizeof(why),
				 "%s: byte %zd is %02x, neither %02x (before) nor %02x (after)",
				 x->w->mixed, i, got[i], b, a);
			violation(x, subset, n, why, NULL);
			break;
		}
	}
	free(got);
}

/* Mounts x->img, compares with the oracle, unmounts, fscks. */
static void check_image(struct explorer *x, const uint32_t *subset, unsigned n)
{
	struct pmfs_fsck_opts fo = { .repair = false, .force = true };
	struct pmfs_fsck_report rep;
	struct pmfs *fs;
	char *sig, why[64];
	int err;

	x->states++;
	if ((err = write_file(crash_path, x->img, IMAGE_SIZE))) {
		violation(x, subset, n, "cannot write the crash image", strerror(-err));
		return;
	}
	if ((err = pmfs_mount(crash_path, NULL, &fs, NULL))) {
		snprintf(why, sizeof(why), "mount (recovery) failed: %d", err);
		violation(x, subset, n, why, NULL);
		return;
	}
	sig = tree_signature_ex(fs, x->w->mixed, TREE_SIG_TIMES, &err);
	if (sig && x->w->mixed)
		check_mixed(x, fs, subset, n);
	if (!sig) {
		snprintf(why, sizeof(why), "walking the recovered tree failed: %d", err);
		violation(x, subset, n, why, NULL);
	} else if (strcmp(sig, x->before_sig) && strcmp(sig, x->after_sig)) {
		char *d = NULL;

		if (asprintf(&d, "--- found:\n%s--- before:\n%s--- after:\n%s", sig, x->before_sig,
			     x->after_sig) < 0)
			d = NULL;
		violation(x, subset, n, "the tree is neither the one before nor the one after", d);
		free(d);
	}
	free(sig);
	if ((err = pmfs_unmount(fs))) {
		snprintf(why, sizeof(why), "unmount failed: %d", err);
		violation(x, subset, n, why, NULL);
		return;
	}
	pmfs_fsck(crash_path, &fo, &rep);
	if (rep.exit_code != PMFS_FSCK_CLEAN)
		violation(x, subset, n, "fsck -n -f of the recovered image is not clean", rep.text);
	pmfs_fsck_report_free(&rep);
}

/* The in-flight lines whose latest value is not the durable one. */
static unsigned candidates(struct explorer *x, uint32_t *cand)
{
	unsigned n = 0;

	for (unsigned i = 0; i < x->nwindow; i++) {
		uint32_t l = x->window[i];

		if (memcmp(x->cur + (size_t)l * LINE, x->persisted + (size_t)l * LINE, LINE))
			cand[n++] = l;
	}
	return n;
}

static void check_subset(struct explorer *x, const uint32_t *subset, unsigned n)
{
	memcpy(x->img, x->persisted, IMAGE_SIZE);
	for (unsigned i = 0; i < n; i++)
		memcpy(x->img + (size_t)subset[i] * LINE, x->cur + (size_t)subset[i] * LINE, LINE);
	check_image(x, subset, n);
}

static double choose(unsigned n, unsigned k)
{
	double c = 1;

	for (unsigned i = 0; i < k; i++)
		c = c * (n - i) / (i + 1);
	return c;
}

/* Every subset of size k of cand, in order (when they fit the budget). */
static void all_subsets(struct explorer *x, const uint32_t *cand, unsigned n, unsigned k,
			uint32_t *pick, unsigned depth, unsigned from)
{
	if (depth == k) {
		check_subset(x, pick, k);
		return;
	}
	for (unsigned i = from; i < n; i++) {
		pick[depth] = cand[i];
		all_subsets(x, cand, n, k, pick, depth + 1, i + 1);
	}
}

/* The crash states of the window that ends now (at a fence or at the end
 * of the operation): subsets of 1..K in-flight lines over the durable
 * state (the durable state alone was checked at the previous fence). */
static void explore_window(struct explorer *x)
{
	uint32_t *cand = malloc((x->nwindow + 1) * sizeof(*cand)), pick[MAX_K];
	unsigned n = candidates(x, cand), left = budget;

	for (unsigned k = 1; k <= k_max && k <= n && left; k++) {
		double c = choose(n, k);

		if (c <= left) {
			all_subsets(x, cand, n, k, pick, 0, 0);
			left -= (unsigned)c;
			continue;
		}
		/* random distinct-element subsets of size k */
		for (; left; left--) {
			for (unsigned i = 0; i < k; i++) {
				uint32_t l;
				unsigned j;

				do {
					l = cand[rng_next(&x->rng) % n];
					for (j = 0; j < i && pick[j] != l; j++)
						;
				} while (j < i);
				pick[i] = l;
			}
			check_subset(x, pick, k);
		}
	}
	free(cand);
}

static void touch(struct explorer *x, uint32_t l, int flushed)
{
	uint8_t s = x->lstate[l];

	if (s == L_NONE)
		x->window[x->nwindow++] = l;
	if (flushed) {
		memcpy(x->flushed + (size_t)l * LINE, x->cur + (size_t)l * LINE, LINE);
		x->lstate[l] = L_FLUSHED;
	} else {
		x->lstate[l] = s == L_FLUSHED || s == L_FLUSHED_REWRITTEN ? L_FLUSHED_REWRITTEN
									  : L_WRITTEN;
	}
}

static void on_fence(struct explorer *x)
{
	unsigned keep = 0;

	explore_window(x);
	x->fence++;
	for (unsigned i = 0; i < x->nwindow; i++) {
		uint32_t l = x->window[i];

		if (x->lstate[l] == L_FLUSHED || x->lstate[l] == L_FLUSHED_REWRITTEN)
			memcpy(x->persisted + (size_t)l * LINE, x->flushed + (size_t)l * LINE, LINE);
		if (x->lstate[l] == L_FLUSHED) {
			x->lstate[l] = L_NONE;
		} else { /* written since: still in flight */
			x->lstate[l] = L_WRITTEN;
			x->window[keep++] = l;
		}
	}
	x->nwindow = keep;
	memcpy(x->img, x->persisted, IMAGE_SIZE);
	check_image(x, NULL, 0);
}

static void replay_trace(struct explorer *x)
{
	size_t n = pmem_trace_count();

	for (size_t i = 0; i < n; i++) {
		const struct pmem_trace_event *e = pmem_trace_event(i);
		uint64_t first = e->off / LINE, last = (e->off + e->len + LINE - 1) / LINE;

		switch (e->kind) {
		case PMEM_TRACE_STORE:
		case PMEM_TRACE_FLUSH:
			memcpy(x->cur + e->off, e->data, e->len);
			for (uint64_t l = first; l < last; l++)
				touch(x, (uint32_t)l, e->kind == PMEM_TRACE_FLUSH ||
							      !(e->flags & PMEM_TRACE_F_NOFLUSH));
			break;
		case PMEM_TRACE_FENCE:
			on_fence(x);
			break;
		default:
			break;
		}
	}
	explore_window(x); /* after the last fence: what is still in flight */
}

static int mkfs_image(const char *path)
{
	struct pmfs_mkfs_opts o = { .size = IMAGE_SIZE, .force = true, .inodes = 256 };
	struct pmfs_mkfs_result r;
	int err;

	unlink(path);
	err = pmfs_mkfs(path, &o, &r);
	if (err)
		fprintf(stderr, "mkfs: %s\n", r.msg);
	return err;
}

/* Reports the first and the number of bytes where the trace's replay and
 * the real image disagree: stores the recorder never saw. */
static unsigned long check_escapes(const struct workload *w, const uint8_t *real, const uint8_t *cur)
{
	unsigned long diff = 0;
	size_t first = 0;

	for (size_t i = 0; i < IMAGE_SIZE; i++)
		if (real[i] != cur[i] && diff++ == 0)
			first = i;
	if (diff)
		printf("VIOLATION %s: %lu bytes changed on pmem without a traced store or flush "
		       "(first at offset 0x%zx)\n", w->name, diff, first);
	return diff ? 1 : 0;
}

struct type_count {
	const char *type;
	unsigned long states, violations, workloads;
};

static int run_workload(const struct workload *w, const char *path, struct explorer *x)
{
	struct pmfs *fs;
	int err;

	if ((err = mkfs_image(path)) || (err = pmfs_mount(path, NULL, &fs, NULL)))
		return err;
	w->prep(fs);
	if ((err = pmfs_unmount(fs)) || (err = pmfs_mount(path, NULL, &fs, NULL)))
		return err;
	x->w = w;
	x->before_sig = tree_signature_ex(fs, w->mixed, TREE_SIG_TIMES, &err);
	if (!x->before_sig)
		return err;
	if (w->mixed && (x->mixed_bsize = read_path(fs, w->mixed, &x->mixed_before)) < 0)
		return (int)x->mixed_bsize;
	memcpy(x->persisted, fs->base, IMAGE_SIZE);
	memcpy(x->cur, fs->base, IMAGE_SIZE);
	if (pmem_trace_start(fs->base, IMAGE_SIZE))
		return -errno;
	pmem_trace_mark(w->name);
	err = w->op(fs);
	if (pmem_trace_stop()) {
		fprintf(stderr, "%s: the trace is incomplete (out of memory)\n", w->name);
		return -ENOMEM;
	}
	if (err) {
		fprintf(stderr, "%s: the operation failed: %d (%s)\n", w->name, err, strerror(-err));
		return err;
	}
	/* the replay of the trace must end where the real image is */
	memset(x->lstate, 0, NLINES);
	x->nwindow = 0;
	x->fence = 0;
	x->states = x->violations = 0;
	{
		uint8_t *start = malloc(IMAGE_SIZE);

		if (!start)
			return -ENOMEM;
		memcpy(start, x->cur, IMAGE_SIZE);
		for (size_t i = 0, n = pmem_trace_count(); i < n; i++) {
			const struct pmem_trace_event *e = pmem_trace_event(i);

			if (e->kind == PMEM_TRACE_STORE || e->kind == PMEM_TRACE_FLUSH)
				memcpy(x->cur + e->off, e->data, e->len);
		}
		x->violations += check_escapes(w, (const uint8_t *)fs->base, x->cur);
		memcpy(x->cur, start, IMAGE_SIZE);
		free(start);
	}
	x->after_sig = tree_signature_ex(fs, w->mixed, TREE_SIG_TIMES, &err);
	if (!x->after_sig)
		return err;
	if (w->mixed && (x->mixed_asize = read_path(fs, w->mixed, &x->mixed_after)) < 0)
		return (int)x->mixed_asize;
	if ((err = pmfs_unmount(fs)))
		return err;
	replay_trace(x);
	free(x->before_sig);
	free(x->after_sig);
	free(x->mixed_before);
	free(x->mixed_after);
	x->mixed_before = x->mixed_after = NULL;
	return 0;
}

int main(void)
{
	const char *only = getenv("CRASH_ONLY");
	struct explorer x = { 0 };
	struct type_count types[32] = { 0 };
	unsigned ntypes = 0, ran = 0;
	unsigned long total = 0, bad = 0, known = 0;
	char path[96];
	time_t t0 = time(NULL);

	if (getenv("CRASH_K"))
		k_max = (unsigned)atoi(getenv("CRASH_K"));
	if (getenv("CRASH_BUDGET"))
		budget = (unsigned)atoi(getenv("CRASH_BUDGET"));
	if (k_max > MAX_K)
		k_max = MAX_K;
	keep_dir = getenv("CRASH_KEEP");
	x.rng = getenv("CRASH_SEED") ? strtoull(getenv("CRASH_SEED"), NULL, 0) : 1;
	snprintf(path, sizeof(path), "/dev/shm/pmemfs-explore-%d.img", (int)getpid());
	snprintf(crash_path, sizeof(crash_path), "/dev/shm/pmemfs-explore-%d-crash.img",
		 (int)getpid());
	x.persisted = malloc(IMAGE_SIZE);
	x.cur = malloc(IMAGE_SIZE);
	x.flushed = malloc(IMAGE_SIZE);
	x.img = malloc(IMAGE_SIZE);
	x.lstate = calloc(NLINES, 1);
	x.window = malloc(NLINES * sizeof(*x.window));
	if (!x.persisted || !x.cur || !x.flushed || !x.img || !x.lstate || !x.window)
		return 2;
	printf("crash-state explorer: K=%u, budget %u states per window, seed %llu\n", k_max,
	       budget, (unsigned long long)x.rng);
	for (unsigned i = 0; i < explore_nworkloads; i++) {
		const struct workload *w = &explore_workloads[i];
		unsigned t;
		int err;

		if (only && strcmp(only, w->name))
			continue;
		err = run_workload(w, path, &x);
		if (err) {
			printf("ERROR %s: could not run: %d (%s)\n", w->name, err, strerror(-err));
			bad++;
			continue;
		}
		ran++;
		printf("%-24s %3u fences %6lu crash states %3lu violations\n", w->name, x.fence,
		       x.states, x.violations);
		fflush(stdout);
		for (t = 0; t < ntypes && strcmp(types[t].type, w->type); t++)
			;
		if (t == ntypes)
			types[ntypes++].type = w->type;
		types[t].states += x.states;
		types[t].violations += x.violations;
		types[t].workloads++;
		total += x.states;
		if (w->known_bug && x.violations) {
			printf("  (known open bug, not failing the run: %s)\n", w->known_bug);
			known += x.violations;
		} else if (w->known_bug) {
			printf("ERROR %s: marked as known bug \"%s\" but no violation: fixed? "
			       "remove the marker in explore_ops.c\n", w->name, w->known_bug);
			bad++;
		} else {
			bad += x.violations;
		}
	}
	printf("\nper operation type:\n");
	for (unsigned t = 0; t < ntypes; t++)
		printf("  %-10s %2lu workloads %7lu crash states %3lu violations\n", types[t].type,
		       types[t].workloads, types[t].states, types[t].violations);
	printf("crash states checked: %lu in %u workloads, violations: %lu, of known open bugs: "
	       "%lu (%lds)\n", total, ran, bad, known, (long)(time(NULL) - t0));
	unlink(path);
	unlink(crash_path);
	return bad || ran == 0 ? 1 : 0;
}
