/* peer.h — a scripted SOCKS proxy for unit tests: a thread that reads
 * exact byte counts from the client and answers with canned replies,
 * normally, one byte at a time, late, or by closing. What the client sent
 * is recorded in got[] so tests can compare it byte for byte. */
#ifndef SOCKSIFY_TEST_PEER_H
#define SOCKSIFY_TEST_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum peer_op {
	PEER_END = 0,	/* then wait for the client to close */
	PEER_READ,	/* read exactly len bytes into the record */
	PEER_SEND,	/* one write */
	PEER_SEND_SLOW, /* one byte per write, 3 ms apart */
	PEER_SEND_LATE, /* one write after 20 ms: the client surely waits */
	PEER_CLOSE,	/* close now */
};

struct peer_step {
	enum peer_op op;
	const uint8_t *data;
	size_t len;
};

#define READ(n)                                                                \
	{                                                                      \
		PEER_READ, NULL, (n)                                           \
	}
#define SEND(a)                                                                \
	{                                                                      \
		PEER_SEND, (a), sizeof(a)                                      \
	}
#define SEND_SLOW(a)                                                           \
	{                                                                      \
		PEER_SEND_SLOW, (a), sizeof(a)                                 \
	}
#define SEND_LATE(a)                                                           \
	{                                                                      \
		PEER_SEND_LATE, (a), sizeof(a)                                 \
	}
#define CLOSE()                                                                \
	{                                                                      \
		PEER_CLOSE, NULL, 0                                            \
	}
#define END()                                                                  \
	{                                                                      \
		PEER_END, NULL, 0                                              \
	}

struct peer {
	int fd;
	int listen_fd; /* >= 0: accept the client from it first */
	const struct peer_step *steps;
	uint8_t got[2048]; /* everything the client sent, in order */
	size_t got_len;
	pthread_t thread;
};

/* Run steps on one end of a socketpair; returns the other end, the client's,
 * non-blocking. */
int peer_start(struct peer *p, const struct peer_step *steps);

/* Run steps on the first client accepted from listen_fd (a listening TCP
 * socket the test owns and closes). */
void peer_start_listener(struct peer *p, int listen_fd,
			 const struct peer_step *steps);

/* Close the client end and wait for the peer to finish. */
void peer_finish(struct peer *p, int client);

#endif
