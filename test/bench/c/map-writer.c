// SPDX-License-Identifier: Apache-2.0
/*
 * The floor for the writer benchmark (test/bench/maps): the same map writes nearby's writer makes
 * for a bulk load or for services applied one by one, made through libbpf with nothing above it.
 * The maps have the BPF object's types and flags (bpf/nearby.bpf.c) and the header's layouts
 * (bpf/nearby.h, included, not copied), so only the writer's own cost differs between the two.
 *
 *   map-writer create DIR               create and pin services, slots, backends under DIR
 *   map-writer bulk   DIR SERVICES EPS  create them, then one batch per map, timed
 *   map-writer single DIR SERVICES EPS  create them, then element by element, timed
 *
 * The services are those of test/bench/writer-fixture.ts (benchSpec): service s has EPS pods
 * split 2 / 3 / the rest over three tiers, and ids are handed out as a writer on empty maps does,
 * so the maps end up byte for byte what the TypeScript writer writes (the benchmark checks that).
 * Prints one JSON line; the pins stay for the caller to compare and remove.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "../../../bpf/nearby.h"

/* pkg/datapath DEFAULT_MAP_SIZES: what the agent sizes these maps to unless told otherwise. */
#define MAX_SERVICES 80000
#define MAX_BACKENDS 150000
#define MAX_SLOTS 300000
#define BENCH_PORT 80
#define POD_PORT 8080

struct maps {
	int services, slots, backends;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "map-writer: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int create_pinned(const char *dir, const char *name, __u32 key_size, __u32 value_size, __u32 max)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	char path[4096];
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, key_size, value_size, max, &opts);
	if (fd < 0)
		die(name, fd);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc = bpf_obj_pin(fd, path);
	if (rc < 0)
		die(path, rc);
	return fd;
}

static struct maps create_maps(const char *dir)
{
	struct maps m;
	m.services = create_pinned(dir, "services", sizeof(struct nearby_svc_key), sizeof(struct nearby_svc_value), MAX_SERVICES);
	m.slots = create_pinned(dir, "slots", sizeof(struct nearby_slot_key), sizeof(__u32), MAX_SLOTS);
	m.backends = create_pinned(dir, "backends", sizeof(__u32), sizeof(struct nearby_backend), MAX_BACKENDS);
	return m;
}

/* writer-fixture.ts podAddress(i) and vip(s), in network byte order. */
static __u32 pod_address(__u32 i)
{
	return htonl((10u << 24) | ((128u + (i >> 16)) << 16) | (((i >> 8) & 255u) << 8) | (i & 255u));
}

static __u32 vip(__u32 s)
{
	return htonl((10u << 24) | (96u << 16) | ((s >> 8) << 8) | (s & 255u));
}

/* The tier of endpoint e: 2 in tier 0, 3 in tier 1, the rest in tier 2 (benchSpec). */
static __u16 tier_of(__u32 e, __u16 *index)
{
	if (e < 2) {
		*index = e;
		return 0;
	}
	if (e < 5) {
		*index = e - 2;
		return 1;
	}
	*index = e - 5;
	return 2;
}

static void encode_backend(struct nearby_backend *b, __u32 pod, __u32 e)
{
	memset(b, 0, sizeof(*b));
	b->addr[0] = pod_address(pod);
	b->port = htons(POD_PORT);
	b->family = AF_INET;
	b->node_id = e % 3;
}

static void encode_service(struct nearby_svc_key *k, struct nearby_svc_value *v, __u32 s, __u32 eps)
{
	memset(k, 0, sizeof(*k));
	k->addr[0] = vip(s);
	k->port = htons(BENCH_PORT);
	k->proto = IPPROTO_TCP;
	k->family = AF_INET;
	memset(v, 0, sizeof(*v));
	v->id = s + 1;
	v->mode = NEARBY_MODE_FAILOVER;
	v->count[0] = 2;
	v->count[1] = 3;
	v->count[2] = eps - 5;
}

static void batch(int fd, const void *keys, const void *values, __u32 n, const char *what)
{
	__u32 count = n;
	int rc = bpf_map_update_batch(fd, keys, values, &count, NULL);
	if (rc < 0)
		die(what, rc);
}

/* Backends, slots, services: three batches in the writer's safe order, with encoding timed too. */
static void bulk(const struct maps *m, __u32 services, __u32 eps)
{
	__u32 n = services * eps;
	__u32 *backend_keys = malloc(n * sizeof(__u32));
	struct nearby_backend *backend_values = malloc(n * sizeof(*backend_values));
	struct nearby_slot_key *slot_keys = malloc(n * sizeof(*slot_keys));
	__u32 *slot_values = malloc(n * sizeof(__u32));
	struct nearby_svc_key *svc_keys = malloc(services * sizeof(*svc_keys));
	struct nearby_svc_value *svc_values = malloc(services * sizeof(*svc_values));
	if (!backend_keys || !backend_values || !slot_keys || !slot_values || !svc_keys || !svc_values)
		die("malloc", ENOMEM);
	for (__u32 s = 0; s < services; s++) {
		for (__u32 e = 0; e < eps; e++) {
			__u32 i = s * eps + e;
			__u16 index;
			backend_keys[i] = i + 1;
			encode_backend(&backend_values[i], i, e);
			slot_keys[i].svc_id = s + 1;
			slot_keys[i].tier = tier_of(e, &index);
			slot_keys[i].index = index;
			slot_values[i] = i + 1;
		}
		encode_service(&svc_keys[s], &svc_values[s], s, eps);
	}
	batch(m->backends, backend_keys, backend_values, n, "backends batch");
	batch(m->slots, slot_keys, slot_values, n, "slots batch");
	batch(m->services, svc_keys, svc_values, services, "services batch");
	free(backend_keys);
	free(backend_values);
	free(slot_keys);
	free(slot_values);
	free(svc_keys);
	free(svc_values);
}

static void update(int fd, const void *key, const void *value, __u64 flags, const char *what)
{
	int rc = bpf_map_update_elem(fd, key, value, flags);
	if (rc < 0)
		die(what, rc);
}

/* What ServiceWriter.apply does for a new service: each backend (NOEXIST), each slot, the entry. */
static void single(const struct maps *m, __u32 services, __u32 eps)
{
	for (__u32 s = 0; s < services; s++) {
		struct nearby_backend b;
		struct nearby_slot_key k;
		struct nearby_svc_key sk;
		struct nearby_svc_value sv;
		for (__u32 e = 0; e < eps; e++) {
			__u32 id = s * eps + e + 1;
			encode_backend(&b, id - 1, e);
			update(m->backends, &id, &b, BPF_NOEXIST, "backend");
		}
		for (__u32 e = 0; e < eps; e++) {
			__u32 id = s * eps + e + 1;
			__u16 index;
			memset(&k, 0, sizeof(k));
			k.svc_id = s + 1;
			k.tier = tier_of(e, &index);
			k.index = index;
			update(m->slots, &k, &id, BPF_ANY, "slot");
		}
		encode_service(&sk, &sv, s, eps);
		update(m->services, &sk, &sv, BPF_ANY, "service");
	}
}

static __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static __u32 positive(const char *text, __u32 min, const char *what)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);
	if (*end || v < min || v > 1000000) {
		fprintf(stderr, "map-writer: %s must be a number from %u to 1000000, not %s\n", what, min, text);
		exit(2);
	}
	return (__u32)v;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "create") == 0) {
		create_maps(argv[2]);
		return 0;
	}
	if (argc != 5 || (strcmp(argv[1], "bulk") && strcmp(argv[1], "single"))) {
		fprintf(stderr, "usage: map-writer create DIR | map-writer bulk|single DIR SERVICES ENDPOINTS_PER_SERVICE\n");
		return 2;
	}
	__u32 services = positive(argv[3], 1, "SERVICES");
	__u32 eps = positive(argv[4], 5, "ENDPOINTS_PER_SERVICE");
	if ((unsigned long)services * eps > MAX_BACKENDS || services > MAX_SERVICES) {
		fprintf(stderr, "map-writer: %u services x %u endpoints do not fit the default map sizes\n", services, eps);
		return 2;
	}
	struct maps m = create_maps(argv[2]);
	/* Wall time, and CPU time (user and system, the kernel's share of the writes included): on
	 * a shared machine the wall time also counts the time other jobs ran instead. */
	__u64 t0 = clock_ns(CLOCK_MONOTONIC);
	__u64 c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (strcmp(argv[1], "bulk") == 0)
		bulk(&m, services, eps);
	else
		single(&m, services, eps);
	__u64 ns = clock_ns(CLOCK_MONOTONIC) - t0;
	__u64 cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("{\"mode\":\"%s\",\"services\":%u,\"endpoints\":%u,\"ns\":%llu,\"cpu_ns\":%llu}\n", argv[1], services,
	       services * eps, (unsigned long long)ns, (unsigned long long)cpu_ns);
	return 0;
}
