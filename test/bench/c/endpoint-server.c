// SPDX-License-Identifier: Apache-2.0
/*
 * The connect benchmark's endpoint: accepts TCP connections on PORT (every address of its network
 * namespace) and closes each at once. It must accept far faster than one client connects, or the
 * benchmark measures the accept queue instead of the connect path: THREADS threads each own a
 * SO_REUSEPORT listener with a deep backlog and do nothing but accept() and close().
 *
 *   endpoint-server PORT [THREADS [SECONDS]]
 *
 * Prints "ready" once every listener is up. Exits by itself after SECONDS (default 3600), so a
 * server whose benchmark crashed does not outlive it for long.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 4096
#define MAX_THREADS 16

static int listener(int port)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		perror("endpoint-server: socket");
		exit(1);
	}
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = { htonl(INADDR_ANY) } };
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, BACKLOG) < 0) {
		perror("endpoint-server: bind/listen");
		exit(1);
	}
	return fd;
}

static void *accept_loop(void *arg)
{
	int fd = (int)(long)arg;
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE && errno != ENFILE)
			perror("endpoint-server: accept");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: endpoint-server PORT [THREADS [SECONDS]]\n");
		return 2;
	}
	int port = atoi(argv[1]);
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	int seconds = argc > 3 ? atoi(argv[3]) : 3600;
	if (port <= 0 || port > 65535 || threads < 1 || threads > MAX_THREADS || seconds < 1) {
		fprintf(stderr, "endpoint-server: bad arguments\n");
		return 2;
	}
	pthread_t t[MAX_THREADS];
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&t[i], NULL, accept_loop, (void *)(long)listener(port)) != 0) {
			fprintf(stderr, "endpoint-server: pthread_create failed\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	sleep(seconds);
	return 0;
}
