// SPDX-License-Identifier: Apache-2.0
/*
 * The connect benchmark's client: socket + connect + close to ADDRESS:PORT in a loop, one at a
 * time, timing each cycle in ns. Each socket closes with SO_LINGER 0 (a RST, no TIME_WAIT), so
 * thousands of connects a second never run the ephemeral ports out and the figures measure the
 * connect path, not the port search. Bounded by COUNT and by SECONDS, whichever comes first.
 *
 *   connect-client ADDRESS PORT COUNT SECONDS [WARMUP]
 *
 * The first WARMUP cycles (default 200) are made but not recorded. Prints one JSON line: cycles
 * recorded, failures and the first failure's errno, p50/p99/mean in ns and cycles per second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One cycle; returns 0 or the errno of the step that failed. */
static int cycle(const struct sockaddr_in *to)
{
	static const struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int err = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close)) < 0 ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0)
		err = errno;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: connect-client ADDRESS PORT COUNT SECONDS [WARMUP]\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "connect-client: not an IPv4 address: %s\n", argv[1]);
		return 2;
	}
	long count = atol(argv[3]);
	double seconds = atof(argv[4]);
	long warmup = argc > 5 ? atol(argv[5]) : 200;
	if (count < 1 || seconds <= 0 || warmup < 0) {
		fprintf(stderr, "connect-client: bad arguments\n");
		return 2;
	}
	uint64_t *lat = malloc(count * sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "connect-client: out of memory\n");
		return 1;
	}
	long failures = 0;
	int first_errno = 0;
	for (long i = 0; i < warmup; i++) {
		int err = cycle(&to);
		if (err && !first_errno)
			first_errno = err;
		failures += err != 0;
	}
	long n = 0;
	uint64_t start = now_ns(), deadline = start + (uint64_t)(seconds * 1e9), t = start;
	while (n < count && t < deadline) {
		int err = cycle(&to);
		uint64_t end = now_ns();
		if (err) {
			failures++;
			if (!first_errno)
				first_errno = err;
		} else {
			lat[n++] = end - t;
		}
		t = end;
	}
	uint64_t elapsed = t - start;
	double mean = 0;
	for (long i = 0; i < n; i++)
		mean += (double)lat[i] / (double)(n ? n : 1);
	qsort(lat, n, sizeof(*lat), compare);
	printf("{\"cycles\":%ld,\"failures\":%ld,\"first_errno\":%d,\"p50_ns\":%llu,\"p99_ns\":%llu,\"mean_ns\":%.0f,"
	       "\"per_second\":%.0f,\"elapsed_ns\":%llu}\n",
	       n, failures, first_errno, n ? (unsigned long long)lat[n / 2] : 0ull,
	       n ? (unsigned long long)lat[(n * 99) / 100] : 0ull, mean, elapsed ? n * 1e9 / (double)elapsed : 0.0,
	       (unsigned long long)elapsed);
	free(lat);
	return n == 0 ? 1 : 0;
}
