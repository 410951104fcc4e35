/*
 * util.c - small services of the storage layer: the log sink (pmfs_logf),
 * CRC32C (pmfs_crc32c: the SSE4.2 crc32 instruction when the CPU has it,
 * else a table) and the crash-test fence hook.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"
#include "persist.h"

void (*pmfs_fence_hook)(void);

void pmfs_logf(const struct pmfs *fs, enum pmfs_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (fs == NULL || fs->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fs->log(fs->log_ctx, level, msg);
}

/* Castagnoli polynomial, reflected. */
#define CRC32C_POLY 0x82f63b78u

static uint32_t crc32c_table[256];
static bool crc32c_have_sse42;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_setup(void)
{
	unsigned eax, ebx, ecx, edx;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[i] = c;
	}
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		crc32c_have_sse42 = (ecx & bit_SSE4_2) != 0;
}

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p,
							    size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		__builtin_memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

/*
 * Standard CRC32C (iSCSI): pass 0 to start; pass the previous result to
 * continue over more bytes.  The pre/post inversion is done here.
 */
uint32_t pmfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_setup);
	crc = ~crc;
#if defined(__x86_64__)
	if (crc32c_have_sse42)
		return ~crc32c_hw(crc, buf, len);
#endif
	return ~crc32c_sw(crc, buf, len);
}
