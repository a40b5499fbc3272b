/* iovec.c — an iovec array as one byte string. Every operation walks the
 * array from the start to find an offset: these helpers serve rare paths
 * (a payload moved by a few bytes), where simplicity beats speed. */
#include "iovec.h"

#include <stdint.h>
#include <string.h>

size_t iovec_total(const struct iovec *iov, size_t count)
{
	size_t total = 0;

	for (size_t i = 0; i < count; i++) {
		if (iov[i].iov_len > SIZE_MAX - total)
			return SIZE_MAX;
		total += iov[i].iov_len;
	}
	return total;
}

/* The address of the byte at offset off and how many bytes follow it in
 * the same iovec (*run). Returns NULL when off is at or past the end. */
static char *iovec_at(const struct iovec *iov, size_t count, size_t off,
		      size_t *run)
{
	for (size_t i = 0; i < count; i++) {
		if (off < iov[i].iov_len) {
			*run = iov[i].iov_len - off;
			return (char *)iov[i].iov_base + off;
		}
		off -= iov[i].iov_len;
	}
	return NULL;
}

/* The address just past the byte at offset end - 1 and how many bytes
 * precede it in the same iovec (*run). Returns NULL when end is 0 or past
 * the end. */
static char *iovec_before(const struct iovec *iov, size_t count, size_t end,
			  size_t *run)
{
	for (size_t i = 0; end > 0 && i < count; i++) {
		if (end <= iov[i].iov_len) {
			*run = end;
			return (char *)iov[i].iov_base + end;
		}
		end -= iov[i].iov_len;
	}
	return NULL;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t iovec_copy_out(const struct iovec *iov, size_t count, size_t off,
		      void *buf, size_t len)
{
	size_t done = 0, run = 0;
	char *p;

	while (done < len && (p = iovec_at(iov, count, off + done, &run))) {
		size_t n = run < len - done ? run : len - done;

		memcpy((char *)buf + done, p, n);
		done += n;
	}
	return done;
}

size_t iovec_copy_in(const struct iovec *iov, size_t count, size_t off,
		     const void *buf, size_t len)
{
	size_t done = 0, run = 0;
	char *p;

	while (done < len && (p = iovec_at(iov, count, off + done, &run))) {
		size_t n = run < len - done ? run : len - done;

		memcpy(p, (const char *)buf + done, n);
		done += n;
	}
	return done;
}

/* dst < src: copy runs front to back, so that no source byte is
 * overwritten before it is read. */
static void iovec_move_down(const struct iovec *iov, size_t count, size_t dst,
			    size_t src, size_t len)
{
	size_t done = 0, run_d = 0, run_s = 0;

	while (done < len) {
		char *d = iovec_at(iov, count, dst + done, &run_d);
		char *s = iovec_at(iov, count, src + done, &run_s);
		size_t n = min3(run_d, run_s, len - done);

		memmove(d, s, n);
		done += n;
	}
}

/* dst > src: copy runs back to front. */
static void iovec_move_up(const struct iovec *iov, size_t count, size_t dst,
			  size_t src, size_t len)
{
	size_t left = len, run_d = 0, run_s = 0;

	while (left > 0) {
		char *d = iovec_before(iov, count, dst + left, &run_d);
		char *s = iovec_before(iov, count, src + left, &run_s);
		size_t n = min3(run_d, run_s, left);

		memmove(d - n, s - n, n);
		left -= n;
	}
}

size_t iovec_move(const struct iovec *iov, size_t count, size_t dst, size_t src,
		  size_t len)
{
	size_t total = iovec_total(iov, count);

	if (dst >= total || src >= total || len == 0)
		return 0;
	if (len > total - dst)
		len = total - dst;
	if (len > total - src)
		len = total - src;
	if (dst < src)
		iovec_move_down(iov, count, dst, src, len);
	else if (dst > src)
		iovec_move_up(iov, count, dst, src, len);
	return len;
}
