/* test_sockopts.c — a race's extra socket made like the program's: the
 * options the program changed are copied, the others left alone, an
 * option that cannot be set fails the copy, and which addresses count as
 * bound. Real (unconnected) TCP sockets, no network. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopts.h"

static int refuse_name = -1; /* setsockopt of this name fails EPERM */
static int set_calls;

static int t_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return getsockopt(fd, level, name, val, len);
}

static int t_setsockopt(int fd, int level, int name, const void *val,
			socklen_t len)
{
	set_calls++;
	if (name == refuse_name) {
		errno = EPERM;
		return -1;
	}
	return setsockopt(fd, level, name, val, len);
}

static const struct sockopts_io io = {t_getsockopt, t_setsockopt};

static int tcp_socket(int domain)
{
	int s = socket(domain, SOCK_STREAM, IPPROTO_TCP);

	ck_assert_int_ge(s, 0);
	return s;
}

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static void set_int(int fd, int level, int name, int v)
{
	ck_assert_int_eq(setsockopt(fd, level, name, &v, sizeof v), 0);
}

START_TEST(nothing_changed_nothing_set)
{
	int like = tcp_socket(AF_INET), s = tcp_socket(AF_INET);

	set_calls = 0;
	refuse_name = -1;
	ck_assert_int_eq(sockopts_copy(&io, like, s, AF_INET), 0);
	ck_assert_int_eq(set_calls, 0);
	close(like);
	close(s);
}
END_TEST

START_TEST(changed_options_copied)
{
	int like = tcp_socket(AF_INET), s = tcp_socket(AF_INET);
	struct linger lg = {1, 7}, got;
	socklen_t len = sizeof got;

	refuse_name = -1;
	set_int(like, SOL_SOCKET, SO_KEEPALIVE, 1);
	set_int(like, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int(like, IPPROTO_TCP, TCP_KEEPIDLE, 33);
	set_int(like, IPPROTO_TCP, TCP_USER_TIMEOUT, 4321);
	set_int(like, SOL_SOCKET, SO_RCVBUF, 65536);
	set_int(like, IPPROTO_IP, IP_TOS, 0x10);
	ck_assert_int_eq(
	    setsockopt(like, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	ck_assert_int_eq(sockopts_copy(&io, like, s, AF_INET), 0);
	ck_assert_int_eq(get_int(s, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(get_int(s, IPPROTO_TCP, TCP_NODELAY), 1);
	ck_assert_int_eq(get_int(s, IPPROTO_TCP, TCP_KEEPIDLE), 33);
	ck_assert_int_eq(get_int(s, IPPROTO_TCP, TCP_USER_TIMEOUT), 4321);
	/* Set once, not doubled twice. */
	ck_assert_int_eq(get_int(s, SOL_SOCKET, SO_RCVBUF),
			 get_int(like, SOL_SOCKET, SO_RCVBUF));
	ck_assert_int_eq(get_int(s, IPPROTO_IP, IP_TOS), 0x10);
	ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	ck_assert_int_eq(got.l_onoff, 1);
	ck_assert_int_eq(got.l_linger, 7);
	close(like);
	close(s);
}
END_TEST

START_TEST(ipv6_traffic_class)
{
	int like = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP), s;

	if (like < 0)
		return; /* no IPv6 here */
	s = tcp_socket(AF_INET6);
	refuse_name = -1;
	set_int(like, IPPROTO_IPV6, IPV6_TCLASS, 0x20);
	ck_assert_int_eq(sockopts_copy(&io, like, s, AF_INET6), 0);
	ck_assert_int_eq(get_int(s, IPPROTO_IPV6, IPV6_TCLASS), 0x20);
	close(like);
	close(s);
}
END_TEST

START_TEST(refused_option_fails_copy)
{
	int like = tcp_socket(AF_INET), s = tcp_socket(AF_INET);

	set_int(like, SOL_SOCKET, SO_PRIORITY, 3);
	refuse_name = SO_PRIORITY;
	ck_assert_int_eq(sockopts_copy(&io, like, s, AF_INET), -EPERM);
	refuse_name = -1;
	close(like);
	close(s);
}
END_TEST

START_TEST(bound_means_a_port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	ck_assert(!sockopts_bound(&ss));
	sin->sin_port = htons(4000);
	ck_assert(sockopts_bound(&ss));
	memset(&ss, 0, sizeof ss);
	sin6->sin6_family = AF_INET6;
	ck_assert(!sockopts_bound(&ss));
	sin6->sin6_port = htons(1);
	ck_assert(sockopts_bound(&ss));
	ss.ss_family = AF_UNIX;
	ck_assert(!sockopts_bound(&ss));
}
END_TEST

static Suite *sockopts_suite(void)
{
	Suite *s = suite_create("sockopts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, nothing_changed_nothing_set);
	tcase_add_test(tc, changed_options_copied);
	tcase_add_test(tc, ipv6_traffic_class);
	tcase_add_test(tc, refused_option_fails_copy);
	tcase_add_test(tc, bound_means_a_port);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sockopts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
