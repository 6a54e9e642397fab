/*
 * platform/net_posix.c: what the daemon's setsockopt answers (it is
 * linked with --wrap=setsockopt, as this test is through wsd_core).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "platform/net.h"

static const int one = 1;

/* What libmicrohttpd 0.9.75 takes for "not TCP": it stops trying. */
Test(net_posix, a_tcp_option_on_a_socket_pair_is_no_such_option)
{
	int sp[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	errno = 0;
	cr_expect_eq(
	    setsockopt(sp[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), -1);
	cr_expect_eq(errno, ENOPROTOOPT, "errno %d (%s)", errno,
		     strerror(errno));
	errno = 0;
	cr_expect_eq(
	    setsockopt(sp[1], IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), -1);
	cr_expect_eq(errno, ENOPROTOOPT, "errno %d (%s)", errno,
		     strerror(errno));
	close(sp[0]);
	close(sp[1]);
}

Test(net_posix, tcp_options_on_tcp_and_other_failures_are_untouched)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	cr_expect_eq(
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	close(fd);
	errno = 0;
	cr_expect_eq(
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), -1);
	cr_expect_eq(errno, EBADF, "errno %d (%s)", errno, strerror(errno));
}

/* What one end sent is unread until the other end has read all of it. */
Test(net_posix, all_read_once_the_peer_has_read_everything)
{
	plat_sock sp[2];
	char buf[8];

	cr_assert_eq(plat_sock_pair(sp), 0);
	cr_expect(plat_sock_all_read(sp[0]));
	cr_assert_eq(plat_send(sp[0], "hello", 5), 5);
	cr_expect(!plat_sock_all_read(sp[0]));
	cr_assert_eq(plat_recv(sp[1], buf, 3), 3);
	cr_expect(!plat_sock_all_read(sp[0]), "2 bytes are left");
	cr_assert_eq(plat_recv(sp[1], buf, sizeof(buf)), 2);
	cr_expect(plat_sock_all_read(sp[0]));
	plat_close_sock(sp[0]);
	plat_close_sock(sp[1]);
	cr_expect(!plat_sock_all_read(sp[0]), "a closed socket cannot tell");
}
