/* peer.c — the scripted SOCKS proxy of the unit tests (see peer.h). */
#include "peer.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_PATIENCE_MS 3000 /* silence after which the peer gives up */
#define PEER_SLOW_GAP_MS 3    /* between the bytes of PEER_SEND_SLOW */
#define PEER_LATE_MS	 20   /* before PEER_SEND_LATE's write */
#define MS_PER_S	 1000
#define NS_PER_MS	 1000000L

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / MS_PER_S, (ms % MS_PER_S) * NS_PER_MS};

	nanosleep(&ts, NULL);
}

/* Block (at most PEER_PATIENCE_MS) until fd is readable. */
static int peer_wait(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, PEER_PATIENCE_MS) == 1 ? 0 : -1;
}

/* Read exactly len bytes into the record; -1 when the client closes, is
 * silent for PEER_PATIENCE_MS, or sends more than the record holds. */
static int peer_read(struct peer *p, size_t len)
{
	ssize_t n;

	while (len > 0 && p->got_len + len <= sizeof(p->got)) {
		if (peer_wait(p->fd) < 0)
			return -1;
		n = read(p->fd, p->got + p->got_len, len);
		if (n <= 0)
			return -1;
		p->got_len += (size_t)n;
		len -= (size_t)n;
	}
	return len == 0 ? 0 : -1;
}

/* A failed whole write poisons the record, so the test's comparison of
 * what was sent fails loudly. */
static void peer_send(struct peer *p, const uint8_t *data, size_t len, int slow)
{
	size_t i;

	if (!slow) {
		if (write(p->fd, data, len) != (ssize_t)len)
			p->got_len = sizeof(p->got);
		return;
	}
	for (i = 0; i < len; i++) {
		sleep_ms(PEER_SLOW_GAP_MS);
		if (write(p->fd, data + i, 1) != 1)
			return;
	}
}

/* Hold the connection until the client hangs up; record anything more it
 * sends (it should send nothing). */
static void peer_drain(struct peer *p)
{
	uint8_t sink[64];

	while (peer_wait(p->fd) == 0) {
		ssize_t n = read(p->fd, sink, sizeof(sink));

		if (n <= 0)
			break;
		if (p->got_len + (size_t)n <= sizeof(p->got)) {
			memcpy(p->got + p->got_len, sink, (size_t)n);
			p->got_len += (size_t)n;
		}
	}
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	const struct peer_step *s;

	if (p->listen_fd >= 0) {
		if (peer_wait(p->listen_fd) < 0)
			return NULL;
		p->fd = accept(p->listen_fd, NULL, NULL);
		if (p->fd < 0)
			return NULL;
	}
	for (s = p->steps; s->op != PEER_END; s++) {
		if (s->op == PEER_READ && peer_read(p, s->len) < 0)
			break;
		if (s->op == PEER_SEND_LATE)
			sleep_ms(PEER_LATE_MS);
		if (s->op == PEER_SEND || s->op == PEER_SEND_SLOW ||
		    s->op == PEER_SEND_LATE)
			peer_send(p, s->data, s->len, s->op == PEER_SEND_SLOW);
		if (s->op == PEER_CLOSE) {
			close(p->fd);
			p->fd = -1;
			return NULL;
		}
	}
	peer_drain(p);
	return NULL;
}

int peer_start(struct peer *p, const struct peer_step *steps)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(
	    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK), 0);
	p->fd = sv[1];
	p->listen_fd = -1;
	p->steps = steps;
	ck_assert_int_eq(pthread_create(&p->thread, NULL, peer_main, p), 0);
	return sv[0];
}

void peer_start_listener(struct peer *p, int listen_fd,
			 const struct peer_step *steps)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->listen_fd = listen_fd;
	p->steps = steps;
	ck_assert_int_eq(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

void peer_finish(struct peer *p, int client)
{
	close(client);
	pthread_join(p->thread, NULL);
	if (p->fd >= 0)
		close(p->fd);
}
