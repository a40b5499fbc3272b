/* iovec.h — scatter/gather buffers seen as one byte string: lengths, copies
 * in and out at an offset, and memmove inside the string. Pure helpers for
 * the UDP receive path, which must move a datagram's payload inside the
 * program's own buffers when the SOCKS header was not the length guessed. */
#ifndef SOCKSIFY_IOVEC_H
#define SOCKSIFY_IOVEC_H

#include <stddef.h>
#include <sys/uio.h>

/* Sum of the lengths (saturating at SIZE_MAX). */
size_t iovec_total(const struct iovec *iov, size_t count);

/* Gather: copy up to len bytes from offset off of the string into buf.
 * Returns the bytes copied (less when the string ends first). */
size_t iovec_copy_out(const struct iovec *iov, size_t count, size_t off,
		      void *buf, size_t len);

/* Scatter: copy up to len bytes of buf to offset off of the string.
 * Returns the bytes copied (less when the string ends first). */
size_t iovec_copy_in(const struct iovec *iov, size_t count, size_t off,
		     const void *buf, size_t len);

/* memmove(string + dst, string + src, len) over the string: overlapping
 * ranges are handled; len is cut so that neither range passes the end.
 * Returns the bytes moved. The iovecs must not overlap one another. */
size_t iovec_move(const struct iovec *iov, size_t count, size_t dst, size_t src,
		  size_t len);

#endif
