/* socks5_udp.h — the RFC 1928 section 7 header that wraps every datagram
 * sent to or received from a SOCKS5 UDP relay. No I/O here. */
#ifndef SOCKSIFY_SOCKS5_UDP_H
#define SOCKSIFY_SOCKS5_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define SOCKS5_UDP_HEADER_IPV4 10
#define SOCKS5_UDP_HEADER_IPV6 22
#define SOCKS5_UDP_HEADER_MAX  (4 + 1 + 255 + 2)

/* Header length for dest: 10 (IPv4), 22 (IPv6), 7 + name length (name).
 * Returns the length, -EINVAL (no address), -ENAMETOOLONG. */
long socks5_udp_header_len(const struct endpoint *dest);

/* Write the header for dest (FRAG 0) into buf. Returns its length,
 * -ENOSPC, -EINVAL, -ENAMETOOLONG. */
long socks5_udp_build_header(uint8_t *buf, size_t cap,
			     const struct endpoint *dest);

/* Parse the header at the start of a received datagram of len bytes.
 * Returns the header length (> 0, <= len) with *src set; -EPROTO when it is
 * truncated or malformed (RSV != 0, unknown ATYP, empty name);
 * -EOPNOTSUPP when FRAG != 0 (fragments are not supported: drop it). */
long socks5_udp_parse_header(const uint8_t *buf, size_t len,
			     struct endpoint *src);

/* The same, accepting any FRAG: *frag receives it (0 for a standalone
 * datagram; see udpfrag.h for the rest). Returns the header length or
 * -EPROTO. */
long socks5_udp_parse_fragment(const uint8_t *buf, size_t len,
			       struct endpoint *src, uint8_t *frag);

#endif
