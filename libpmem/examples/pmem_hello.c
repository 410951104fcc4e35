/*
 * pmem_hello.c - the smallest complete libpmem program: map a file with
 * pmem_map_file, store a greeting durably on the first run, print it on
 * every later run.  It shows the one idiom every libpmem user needs: on
 * pmem, copy and flush from user space (pmem_memcpy_persist); anywhere
 * else, store and then pmem_msync, because only the kernel can write the
 * page cache back.
 */
#include <errno.h>
#include <libpmem.h>
#include <stdio.h>
#include <string.h>

#define HELLO_FILE_SIZE 4096
#define HELLO_MAGIC "PMEMHELLO1"
#define HELLO_GREETING "Hello, persistent memory!"

/* The file's layout: a magic that marks a written greeting, then the text.
 * The magic is stored last, so a crash between the two leaves no magic and
 * the next run writes the greeting again instead of printing half of one. */
struct hello {
	char magic[16];
	char text[HELLO_FILE_SIZE - 16];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pmem_hello FILE\n"
		"Maps FILE with pmem_map_file (creating it, %d bytes, if absent).\n"
		"The first run stores \"%s\" durably; later runs print it.\n"
		"Set PMEM_IS_PMEM_FORCE=1 to take the pmem path on a non-pmem file.\n",
		HELLO_FILE_SIZE, HELLO_GREETING);
}

/* Makes [addr, addr+len) durable the way the mapping requires. */
static int persist(void *addr, size_t len, int is_pmem, const char *path)
{
	if (is_pmem) {
		pmem_persist(addr, len);
		return 0;
	}
	if (pmem_msync(addr, len) != 0) {
		fprintf(stderr, "pmem_hello: %s: pmem_msync: %s\n", path, pmem_errormsg());
		return -1;
	}
	return 0;
}

static int write_greeting(struct hello *hello, int is_pmem, const char *path)
{
	if (is_pmem) {
		/* copy with non-temporal stores or flushes, then one fence */
		pmem_memcpy_persist(hello->text, HELLO_GREETING, sizeof(HELLO_GREETING));
	} else {
		memcpy(hello->text, HELLO_GREETING, sizeof(HELLO_GREETING));
		if (persist(hello->text, sizeof(HELLO_GREETING), is_pmem, path) != 0)
			return -1;
	}
	/* only now, with the text durable, mark it as written */
	memcpy(hello->magic, HELLO_MAGIC, sizeof(HELLO_MAGIC));
	if (persist(hello->magic, sizeof(hello->magic), is_pmem, path) != 0)
		return -1;
	printf("wrote: %s\n", hello->text);
	return 0;
}

static int print_greeting(const struct hello *hello, const char *path)
{
	if (memchr(hello->text, '\0', sizeof(hello->text)) == NULL) {
		fprintf(stderr, "pmem_hello: %s: stored greeting is not terminated\n", path);
		return -1;
	}
	printf("stored: %s\n", hello->text);
	return 0;
}

static int all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *path;
	struct hello *hello;
	size_t mapped_len;
	int is_pmem, status;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	path = argv[1];

	/* len 0 maps an existing file whole; if there is none, create it */
	hello = pmem_map_file(path, 0, 0, 0, &mapped_len, &is_pmem);
	if (!hello && errno == ENOENT)
		hello = pmem_map_file(path, HELLO_FILE_SIZE, PMEM_FILE_CREATE | PMEM_FILE_EXCL,
				      0666, &mapped_len, &is_pmem);
	if (!hello) {
		fprintf(stderr, "pmem_hello: %s: pmem_map_file: %s\n", path, pmem_errormsg());
		return 1;
	}
	if (mapped_len < sizeof(*hello)) {
		fprintf(stderr, "pmem_hello: %s: file is %zu bytes, expected at least %zu\n", path,
			mapped_len, sizeof(*hello));
		pmem_unmap(hello, mapped_len);
		return 1;
	}
	printf("is_pmem: %d\n", is_pmem);

	if (memcmp(hello->magic, HELLO_MAGIC, sizeof(HELLO_MAGIC)) == 0) {
		status = print_greeting(hello, path);
	} else if (all_zero(hello->magic, sizeof(hello->magic))) {
		status = write_greeting(hello, is_pmem, path);
	} else {
		fprintf(stderr, "pmem_hello: %s: not a pmem_hello file (no %s magic)\n", path,
			HELLO_MAGIC);
		status = -1;
	}
	pmem_unmap(hello, mapped_len);
	return status == 0 ? 0 : 1;
}
