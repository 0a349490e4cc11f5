// SPDX-License-Identifier: Apache-2.0
/*
 * The programming benchmark's probe, run where a system's client runs (its cgroup and namespace).
 * For each NAME line read from stdin it connects to ADDRESS:PORT again and again, each time a new
 * connection asking which name-server answers (name-server-main.ts: one HTTP/1.0 request, the
 * body is the name), until NAME does; then prints the CLOCK_MONOTONIC time in ns of that answer,
 * the clock Node's process.hrtime reads, so the harness subtracts its own reading without
 * crossing wall clocks.
 *
 *   name-probe ADDRESS PORT        prints `ready`, then one time per NAME line
 *
 * In C, not Node: several probes poll at once on a small machine, and what they burn is taken
 * from the systems they measure. Each attempt has a 100 ms bound (a SYN the old rules dropped
 * costs that, not the kernel's 1 s retransmit) and attempts are PAUSE_US apart: the resolution.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ATTEMPT_TIMEOUT_MS 100
#define PAUSE_US 500

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = now_ns();
	return now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;
}

/* Waits for EVENTS on FD until DEADLINE; 1 when ready. */
static int wait_for(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left = remaining_ms(deadline);
	return left > 0 && poll(&p, 1, left) == 1 && (p.revents & events);
}

/* One attempt: writes the body of the answer (trimmed) into NAME; 0 on an answer, -1 if none. */
static int who_answers(const struct sockaddr_in *to, char *name, size_t size)
{
	static const char request[] = "GET / HTTP/1.0\r\n\r\n";
	static const struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	uint64_t deadline = now_ns() + ATTEMPT_TIMEOUT_MS * 1000000ull;
	char buf[512];
	size_t got = 0;
	int ok = -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A RST on close: no TIME_WAIT, so thousands of attempts never run the ports out. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0 && errno != EINPROGRESS)
		goto out;
	if (!wait_for(fd, POLLOUT, deadline))
		goto out;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		goto out;
	if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(request) - 1))
		goto out;
	while (got < sizeof(buf) - 1 && wait_for(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (!body)
		goto out;
	body += 4;
	body[strcspn(body, "\r\n")] = '\0';
	snprintf(name, size, "%s", body);
	ok = 0;
out:
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: name-probe ADDRESS PORT\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "name-probe: bad address %s\n", argv[1]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	char want[256], answered[256];
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = PAUSE_US * 1000 };
	while (fgets(want, sizeof(want), stdin)) {
		want[strcspn(want, "\r\n")] = '\0';
		for (;;) {
			int ok = who_answers(&to, answered, sizeof(answered));
			uint64_t at = now_ns();
			if (ok == 0 && strcmp(answered, want) == 0) {
				printf("%llu\n", (unsigned long long)at);
				break;
			}
			nanosleep(&pause, NULL);
		}
	}
	return 0;
}
