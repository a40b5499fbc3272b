/* fuzz_httpconnect.c — the HTTP CONNECT reply head parser, fed the same
 * bytes whole and in fuzzer-chosen pieces.
 *
 * Input: one byte n, then n piece sizes, then the proxy's bytes.
 * Invariants: the pieces give exactly what the whole gives (bytes taken,
 * done, status, error); nothing past the head's final empty line is
 * taken, and the head taken ends with that line; a finished reply takes
 * nothing more; the head is never longer than HTTPCONNECT_HEAD_MAX. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "httpconnect.h"

struct outcome {
	long taken; /* total bytes taken, or the error */
	bool done;
	int status;
};

static struct outcome feed_whole(const uint8_t *buf, size_t len)
{
	struct httpconnect_reply r;
	struct outcome o;

	httpconnect_reply_init(&r);
	o.taken = httpconnect_reply_feed(&r, buf, len);
	o.done = r.done;
	o.status = r.status;
	if (o.taken >= 0) {
		FUZZ_CHECK((size_t)o.taken <= len);
		FUZZ_CHECK(o.done || (size_t)o.taken == len);
		FUZZ_CHECK(r.total == (size_t)o.taken);
		FUZZ_CHECK(strlen(r.status_line) < HTTPCONNECT_STATUS_KEEP);
	}
	if (o.done) {
		FUZZ_CHECK(o.taken >= 2 && buf[o.taken - 1] == '\n');
		FUZZ_CHECK((size_t)o.taken <= HTTPCONNECT_HEAD_MAX);
		FUZZ_CHECK(o.status >= 100 && o.status <= 999);
		FUZZ_CHECK(httpconnect_reply_feed(&r, buf, len) == 0);
		FUZZ_CHECK(httpconnect_status_message(o.status) != NULL);
		(void)httpconnect_status_errno(o.status);
	}
	return o;
}

static struct outcome feed_pieces(const uint8_t *sizes, size_t count,
				  const uint8_t *buf, size_t len)
{
	struct httpconnect_reply r;
	struct outcome o = {0, false, 0};
	size_t off = 0, i = 0, piece;
	long n;

	httpconnect_reply_init(&r);
	while (off < len && !r.done) {
		piece = count ? (size_t)sizes[i++ % count] + 1 : len - off;
		if (piece > len - off)
			piece = len - off;
		n = httpconnect_reply_feed(&r, buf + off, piece);
		if (n < 0) {
			o.taken = n;
			return o;
		}
		FUZZ_CHECK((size_t)n <= piece);
		FUZZ_CHECK(r.done || (size_t)n == piece);
		off += (size_t)n;
	}
	o.taken = (long)off;
	o.done = r.done;
	o.status = r.status;
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	size_t count = fuzz_byte(&in);
	const uint8_t *sizes = in.data;
	struct outcome whole, pieces;

	if (count > in.len)
		count = in.len;
	in.data += count;
	in.len -= count;
	whole = feed_whole(in.data, in.len);
	pieces = feed_pieces(sizes, count, in.data, in.len);
	FUZZ_CHECK(whole.taken == pieces.taken);
	FUZZ_CHECK(whole.done == pieces.done);
	if (whole.done)
		FUZZ_CHECK(whole.status == pieces.status);
	return 0;
}
