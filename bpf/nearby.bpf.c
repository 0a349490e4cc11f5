// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nearby: connect-time locality load balancing.
 *
 * The agent writes each Service's endpoints as priority tiers (nearby.h). At connect() the
 * program looks the destination up, picks a tier by the service's mode and an endpoint in it,
 * and rewrites the destination, so the socket talks to the pod directly for its whole life.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nearby.h"

#define AF_INET 2
#define AF_INET6 10

/* Default sizes; the agent overrides max_entries at load time from its flags. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 80000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nearby_svc_key);
	__type(value, struct nearby_svc_value);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 300000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nearby_slot_key);
	__type(value, __u32);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 150000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct nearby_backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct nearby_sock_meta);
} sock_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct nearby_rev_key);
	__type(value, struct nearby_rev_value);
} rev_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 640000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nearby_counter_key);
	__type(value, struct nearby_counter_value);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 80000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u32);
} rotation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 150000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u32);
} backend_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 80000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct nearby_outlier);
} outlier SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 150000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct nearby_backend_health);
} backend_health SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 80000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct nearby_svc_ejections);
} svc_ejections SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct nearby_affinity_key);
	__type(value, struct nearby_affinity);
} affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nearby_control);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 80000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nearby_svc_key);
	__type(value, __u8);
} claims SEC(".maps");

enum counter_field { CNT_ATTEMPT, CNT_ESTABLISHED, CNT_FAILED, CNT_REFUSED };

static __always_inline void count(__u32 svc_id, __u32 tier, enum counter_field field)
{
	struct nearby_counter_key key = { .svc_id = svc_id, .tier = tier };
	struct nearby_counter_value *val = bpf_map_lookup_elem(&counters, &key);

	if (!val) {
		struct nearby_counter_value zero = {};

		/* NOEXIST: another CPU may have created the row meanwhile; then use theirs. */
		bpf_map_update_elem(&counters, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&counters, &key);
		if (!val)
			return;
	}
	/* Per-CPU rows: plain increments are race-free. */
	switch (field) {
	case CNT_ATTEMPT: val->attempts++; break;
	case CNT_ESTABLISHED: val->established++; break;
	case CNT_FAILED: val->failed++; break;
	case CNT_REFUSED: val->refused++; break;
	}
}

/*
 * SPILLOVER: Envoy's priority load (docs/outlier-detection.md, "Gradual spillover between tiers").
 * A tier's health is min(100, overprovision x h / n) in percent, n = endpoints[t], h = ready[t]
 * minus the tier's backends ejected now; tier 0 takes min(100, health0) of the connects, each
 * later tier min(what remains, its health), the healths scaled up first when they add up to less
 * than 100, and what integer division leaves goes to the first healthy tier. priorityLoad() in
 * pkg/contract is the same rule for the agent: the two must agree, and
 * test/unit/planner/spillover.test.ts and test/kernel/datapath-spillover.test.ts hold both
 * to one table. Computed at each connect, so a kernel ejection moves the split at once.
 */

/*
 * Verifier cost. A few steps of the connect path are global (non-static, noinline)
 * subprograms: the verifier checks each once, on its own, and the caller sees only its scalar
 * result. Inlined, every path through such a step (a loop whose branches leave different
 * constants behind) was walked again for every path before it: ~460,000 instructions per
 * program and seconds per load, four programs over. Their pointer arguments are plain memory to
 * the verifier, which without CAP_PERFMON may not be indexed by a variable: they index only
 * by loop constants (see at_tier for where a tier is known only at run time).
 * test/kernel/verifier-cost.test.ts holds the budget.
 */

/* a[t] for a tier t known only at run time, read at constant offsets. Without CAP_PERFMON the
 * verifier refuses an offset into a map value that is not the same on every path through the
 * instruction, and a[t] compiled as pointer + t is exactly that. */
static __always_inline __u32 at_tier(const __u16 *a, __u32 t)
{
	__u32 v = 0;
	int i;

#pragma unroll
	for (i = 0; i < NEARBY_MAX_TIERS; i++)
		if (i == t)
			v = a[i];
	return v;
}

/* Backends of each tier ejected now, from the service's ejection slots, packed eight bits per
 * tier (a service has at most NEARBY_MAX_EJECTED = 16 at once). Read without the lock: a slot
 * torn by a concurrent ejection miscounts one connect's split, never its safety. Packed in a
 * register because the verifier allows no variable index into memory here (see above). */
__noinline __u64 nearby_ejected_per_tier(const struct nearby_svc_value *svc)
{
	struct nearby_svc_ejections *st;
	struct nearby_backend_health *h;
	__u64 now = bpf_ktime_get_ns(), packed = 0;
	__u32 i, t;

	if (!svc)
		return 0;
	st = bpf_map_lookup_elem(&svc_ejections, &svc->id);
	if (!st)
		return 0;
	/* Unrolled, so st->tier[i] is read at a constant offset (see at_tier). */
#pragma unroll
	for (i = 0; i < NEARBY_MAX_EJECTED; i++) {
		if (st->until[i] <= now)
			continue;
		/* A backend the agent removed meanwhile has no health row left: not this tier's. */
		h = bpf_map_lookup_elem(&backend_health, &st->backend[i]);
		if (!h || h->ejected_until <= now)
			continue;
		t = st->tier[i];
		if (t < NEARBY_MAX_TIERS)
			packed += 1ULL << (t * 8);
	}
	return packed;
}

struct tier_loads {
	__u32 n[NEARBY_MAX_TIERS];
};

/* Turns the tiers' healths in percent into their loads and draws one: the tier, or -1 when
 * every health is 0. Global, reading the healths from memory: each is then unknown to the
 * verifier, so the paths through the loops look alike and are pruned. */
__noinline int nearby_spill_draw(struct tier_loads *load)
{
	__u32 sum = 0, norm, remaining = 100, v, r, given = 0;
	int t;

	if (!load)
		return -1;
	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		v = load->n[t];
		if (v > 100)
			return -1;
		sum += v;
	}
	if (!sum)
		return -1;
	norm = sum < 100 ? sum : 100;
	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		v = load->n[t] * 100 / norm;
		if (v > remaining)
			v = remaining;
		remaining -= v;
		load->n[t] = v;
	}
	r = bpf_get_prandom_u32() % 100;
	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		v = load->n[t];
		/* Integer division's remainder goes to the first healthy tier. */
		if (v && !given) {
			v += remaining;
			given = 1;
		}
		if (r < v)
			return t;
		r -= v;
	}
	return -1;
}

/* The tier SPILLOVER draws for this connect, or -1 when every tier's health is 0; then the caller
 * fails over as FAILOVER does (Envoy would panic: ejection alone never refuses a connect). */
static __always_inline int spill_tier(const struct nearby_svc_value *svc, __u32 *size)
{
	struct tier_loads load = {};
	__u64 ejected = nearby_ejected_per_tier(svc);
	__u32 h, e, v;
	int t;

	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		v = 0;
		if (svc->count[t] && svc->endpoints[t]) {
			e = (ejected >> (t * 8)) & 0xff;
			h = svc->ready[t] > e ? svc->ready[t] - e : 0;
			v = (__u32)svc->overprovision * h / svc->endpoints[t];
			if (v > 100)
				v = 100;
		}
		load.n[t] = v;
	}
	t = nearby_spill_draw(&load);
	if (t < 0 || t >= NEARBY_MAX_TIERS)
		return -1;
	*size = at_tier(svc->count, t);
	return t;
}

/* choose() returns this for NEARBY_MODE_RANDOM: the range is every slot of every tier, in order. */
#define ALL_TIERS NEARBY_MAX_TIERS

/* Returns the tier to use (ALL_TIERS for RANDOM) with the number of slots it holds in *size, or
 * -1 when the mode allows no non-empty tier. */
static __always_inline int choose(const struct nearby_svc_value *svc, __u32 *size)
{
	__u32 total = 0, r;
	int t;

	switch (svc->mode) {
	case NEARBY_MODE_STRICT:
		if (!svc->count[0])
			return -1;
		*size = svc->count[0];
		return 0;
	case NEARBY_MODE_SPILLOVER:
		t = spill_tier(svc, size);
		if (t >= 0)
			return t;
		/* fall through: no tier has health left, so fail over as FAILOVER does */
	case NEARBY_MODE_FAILOVER:
		for (t = 0; t < NEARBY_MAX_TIERS; t++) {
			if (svc->count[t]) {
				*size = svc->count[t];
				return t;
			}
		}
		return -1;
	case NEARBY_MODE_WEIGHTED:
		for (t = 0; t < NEARBY_MAX_TIERS; t++)
			if (svc->count[t])
				total += svc->weight[t];
		if (!total)
			return -1;
		r = bpf_get_prandom_u32() % total;
		for (t = 0; t < NEARBY_MAX_TIERS; t++) {
			if (!svc->count[t])
				continue;
			if (r < svc->weight[t]) {
				*size = svc->count[t];
				return t;
			}
			r -= svc->weight[t];
		}
		return -1;
	default: /* RANDOM */
		for (t = 0; t < NEARBY_MAX_TIERS; t++)
			total += svc->count[t];
		if (!total)
			return -1;
		*size = total;
		return ALL_TIERS;
	}
}

/* The slot at position pos of the range choose() gave. Returns 0, or -1 past its end. */
static __always_inline int locate(const struct nearby_svc_value *svc, int tier, __u32 pos,
				  struct nearby_slot_key *skey)
{
	int t;

	skey->svc_id = svc->id;
	if (tier != ALL_TIERS) {
		skey->tier = tier;
		skey->index = pos;
		return 0;
	}
	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		if (pos < svc->count[t]) {
			skey->tier = t;
			skey->index = pos;
			return 0;
		}
		pos -= svc->count[t];
	}
	return -1;
}

/* ROUND_ROBIN: the service's next position. Atomic, so CPUs racing on one service still take
 * one position each and the rotation stays exact. */
static __always_inline __u32 rotate(__u32 svc_id, __u32 size)
{
	__u32 zero = 0, *pos = bpf_map_lookup_elem(&rotation, &svc_id);

	if (!pos) {
		/* NOEXIST: another CPU may have created the row meanwhile; then use theirs. */
		bpf_map_update_elem(&rotation, &svc_id, &zero, BPF_NOEXIST);
		pos = bpf_map_lookup_elem(&rotation, &svc_id);
		if (!pos) /* the map is full: still serve, at random */
			return bpf_get_prandom_u32() % size;
	}
	return __sync_fetch_and_add(pos, 1) % size;
}

static __always_inline __u32 open_conns(const __u32 *backend_id)
{
	__u32 *n = bpf_map_lookup_elem(&backend_conns, backend_id);

	return n ? *n : 0;
}

/* MAGLEV: the client's 64-bit identity mixed down to 32 well-spread bits (splitmix64's
 * finalizer), so clients whose cookies are neighbours land on unrelated slots of the table. */
static __always_inline __u32 client_hash(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (__u32)(x ^ (x >> 32));
}

/* Picks a slot inside the range by the service's balance, filling *skey. Returns the backend id
 * it names, or NULL when the slot is missing. client (the connecting socket's network namespace
 * cookie) is read by MAGLEV only. */
static __always_inline __u32 *pick_slot(const struct nearby_svc_value *svc, int tier, __u32 size,
					__u64 client, struct nearby_slot_key *skey)
{
	struct nearby_slot_key other = {};
	__u32 a, b, *first, *second;

	switch (svc->balance) {
	case NEARBY_BALANCE_ROUND_ROBIN:
		a = rotate(svc->id, size);
		break;
	case NEARBY_BALANCE_LEAST_REQUEST:
		/* Power of two choices: two distinct random slots, the one with fewer open
		 * connections wins (the first on a tie). */
		a = bpf_get_prandom_u32() % size;
		if (size < 2)
			break;
		b = (a + 1 + bpf_get_prandom_u32() % (size - 1)) % size;
		if (locate(svc, tier, a, skey) || locate(svc, tier, b, &other))
			return NULL;
		first = bpf_map_lookup_elem(&slots, skey);
		second = bpf_map_lookup_elem(&slots, &other);
		if (!first)
			return NULL; /* a hole: refused and counted, as for any other pick */
		if (second && open_conns(second) < open_conns(first)) {
			*skey = other;
			return second;
		}
		return first;
	case NEARBY_BALANCE_MAGLEV:
		/* The range is the tier's Maglev table: one client, one slot, while the table stands. */
		a = client_hash(client) % size;
		break;
	default: /* RANDOM */
		a = bpf_get_prandom_u32() % size;
		break;
	}
	if (locate(svc, tier, a, skey))
		return NULL;
	return bpf_map_lookup_elem(&slots, skey);
}

/*
 * Passive ejection, connect side (docs/outlier-detection.md). sock_ops marks a backend ejected in
 * backend_health; here a pick that landed on one moves to the next live slot of the same range,
 * then to the later tiers, and only when every allowed endpoint is ejected keeps its first pick
 * (Envoy's panic: ejection alone never makes a service unreachable).
 */

/* Slots looked at per range: one more than a service can have ejected at once, so a window this
 * wide always holds a live slot unless the whole range is ejected. */
#define EJECT_WINDOW (NEARBY_MAX_EJECTED + 1)

static __always_inline int ejected(const __u32 *backend_id, __u64 now)
{
	struct nearby_backend_health *h = bpf_map_lookup_elem(&backend_health, backend_id);

	return h && h->ejected_until > now;
}

/* Where skey sits in the range choose() gave: its index, or for ALL_TIERS its overall position. */
static __always_inline __u32 range_pos(const struct nearby_svc_value *svc, int tier,
				       const struct nearby_slot_key *skey)
{
	__u32 pos = skey->index;
	int t;

	if (tier != ALL_TIERS)
		return pos;
	for (t = 0; t < NEARBY_MAX_TIERS; t++) {
		if (t >= skey->tier)
			break;
		pos += svc->count[t];
	}
	return pos;
}

/* One window to scan for a live slot, and what the scan found. */
struct scan {
	__s32 tier;                  /* a tier or ALL_TIERS */
	__u32 size;                  /* slots in that range */
	__u32 start;                 /* position to start from, wrapping */
	__u32 backend_id;            /* out */
	struct nearby_slot_key skey; /* out */
};

/* The first slot from sc->start on (wrapping) whose backend is not ejected, within the window:
 * 0 with sc's outputs filled, or -1. Global (see "Verifier cost"): the later-tier loop below
 * calls it up to eight times, and inlined each call was walked again for every path before it. */
__noinline int nearby_scan_range(const struct nearby_svc_value *svc, struct scan *sc)
{
	struct nearby_slot_key k = {};
	__u64 now = bpf_ktime_get_ns();
	__u32 i, size, *id;
	int tier;

	if (!svc || !sc || sc->tier < 0 || sc->tier > ALL_TIERS || !sc->size)
		return -1;
	tier = sc->tier;
	size = sc->size;
	for (i = 0; i < EJECT_WINDOW; i++) {
		if (i >= size)
			break;
		if (locate(svc, tier, (sc->start + i) % size, &k))
			return -1;
		id = bpf_map_lookup_elem(&slots, &k);
		if (id && !ejected(id, now)) {
			sc->skey = k;
			sc->backend_id = *id;
			return 0;
		}
	}
	return -1;
}

/* TCP only: sock_ops sees no UDP handshake, so UDP backends are never ejected, and a UDP service
 * sharing an address:port with an ejected TCP one must not skip it. */
static __always_inline __u32 *avoid_ejected(const struct nearby_svc_value *svc, int tier, __u32 size,
					    struct nearby_slot_key *skey, __u32 *picked, __u8 proto)
{
	struct scan sc = { .tier = tier, .size = size };
	__u32 *id;
	int t;

	if (!picked || proto != IPPROTO_TCP || !ejected(picked, bpf_ktime_get_ns()))
		return picked;
	sc.start = range_pos(svc, tier, skey) + 1;
	if (!nearby_scan_range(svc, &sc))
		goto found;
	/* RANDOM already looked at every tier; STRICT may not leave tier 0. */
	if (tier == ALL_TIERS || svc->mode == NEARBY_MODE_STRICT)
		return picked;
	/* The later tiers, in order. Counted over every tier with the earlier ones skipped, so each
	 * svc->count[t] has a constant index: an index computed from the chosen tier is refused
	 * without CAP_PERFMON (a pointer offset that differs between paths). */
	for (t = 1; t < NEARBY_MAX_TIERS; t++) {
		if (t <= tier || !svc->count[t])
			continue;
		sc.tier = t;
		sc.size = svc->count[t];
		sc.start = bpf_get_prandom_u32() % svc->count[t];
		if (!nearby_scan_range(svc, &sc))
			goto found;
	}
	return picked;
found:
	/* The slot's backend, re-read here: the scan's copy is not a map value the caller can keep. */
	*skey = sc.skey;
	id = bpf_map_lookup_elem(&slots, skey);
	return id ? id : picked;
}

/*
 * Session affinity (docs/semantics.md, "Session affinity"): a client that connected to a
 * service with affinity_s set keeps its backend while the row is younger than affinity_s and the
 * backend is still one the service's policy would choose: in the tier choose() gave (any tier
 * for RANDOM; any tier with a weight for WEIGHTED, whose draw is per client, not per connect;
 * any tier with endpoints for SPILLOVER, whose priority load may send a connect to a later tier),
 * still in that tier's slots, and not ejected. Otherwise the connect is balanced as usual and
 * the new choice is remembered.
 */

/* Slots of the tier looked at when the backend is no longer at the remembered slot (the writer
 * moved it to fill a hole, or it changed tier). Past it, the client is balanced again. */
#define AFFINITY_SCAN 32

static __always_inline int affinity_tier_allowed(const struct nearby_svc_value *svc, int tier, __u32 t)
{
	if (t >= NEARBY_MAX_TIERS || !at_tier(svc->count, t))
		return 0;
	if (tier == ALL_TIERS)
		return 1;
	if (svc->mode == NEARBY_MODE_WEIGHTED)
		return at_tier(svc->weight, t) != 0;
	/* The priority load draws a tier per connect, and a tier's share moves with its health at
	 * each connect: like WEIGHTED, the draw is made once per client, so any tier with
	 * endpoints (count above) is one the policy may choose. */
	if (svc->mode == NEARBY_MODE_SPILLOVER)
		return 1;
	return t == (__u32)tier;
}

/* Where to look for a client's backend, and where it was found. */
struct affinity_probe {
	__u32 backend_id;            /* in */
	__u32 count;                 /* in: live slots of the tier */
	struct nearby_slot_key skey; /* in: the remembered slot; out: where the backend is */
};

/* Where the backend sits in its tier: the remembered index if it still holds it, else the first
 * of the tier's first AFFINITY_SCAN slots that does. 0 with p->skey filled when found. Global
 * (see "Verifier cost"): inlined, without CAP_PERFMON the verifier's speculative paths through
 * this loop, on top of the pick's, overflowed its 8,192-jump limit. */
__noinline int nearby_affinity_find(struct affinity_probe *p)
{
	struct nearby_slot_key k = {};
	__u32 i, n, *id;

	if (!p)
		return -1;
	k = p->skey;
	n = p->count;
	if (k.index < n) {
		id = bpf_map_lookup_elem(&slots, &k);
		if (id && *id == p->backend_id)
			return 0;
	}
	for (i = 0; i < AFFINITY_SCAN; i++) {
		if (i >= n)
			break;
		k.index = i;
		id = bpf_map_lookup_elem(&slots, &k);
		if (id && *id == p->backend_id) {
			p->skey = k;
			return 0;
		}
	}
	return -1;
}

/* The client's remembered backend if it still stands (see above), with *skey filled and the row
 * refreshed; NULL when the service has no affinity or the client must be balanced again. */
static __always_inline __u32 *affinity_backend(const struct nearby_svc_value *svc, int tier, __u64 client,
						__u8 proto, struct nearby_slot_key *skey)
{
	struct nearby_affinity_key k = { .client = client, .svc_id = svc->id };
	struct affinity_probe probe = {};
	struct nearby_affinity *row;
	__u32 t, *id;
	__u64 now;

	if (!svc->affinity_s)
		return NULL;
	row = bpf_map_lookup_elem(&affinity, &k);
	if (!row)
		return NULL;
	now = bpf_ktime_get_ns();
	if (now - row->last_ns >= (__u64)svc->affinity_s * 1000000000ULL)
		return NULL;
	t = row->tier;
	/* The backend changed tier (a new tier 0 endpoint, a relabelled node): look where the
	 * policy goes now; RANDOM and WEIGHTED first look where it was. */
	if (!affinity_tier_allowed(svc, tier, t)) {
		if (tier == ALL_TIERS || svc->mode == NEARBY_MODE_WEIGHTED || svc->mode == NEARBY_MODE_SPILLOVER)
			return NULL;
		t = tier;
	}
	probe.backend_id = row->backend_id;
	probe.count = at_tier(svc->count, t);
	probe.skey.svc_id = svc->id;
	probe.skey.tier = t;
	probe.skey.index = row->index;
	if (nearby_affinity_find(&probe))
		return NULL;
	/* Looked up again here: the caller keeps the map value, which the probe's copy is not. */
	id = bpf_map_lookup_elem(&slots, &probe.skey);
	if (!id || *id != row->backend_id)
		return NULL;
	if (proto == IPPROTO_TCP && ejected(id, now))
		return NULL;
	row->last_ns = now;
	row->tier = probe.skey.tier;
	row->index = probe.skey.index;
	*skey = probe.skey;
	return id;
}

/* Remembers the client's new choice, for a service with affinity. */
static __always_inline void affinity_remember(const struct nearby_svc_value *svc, __u64 client,
					      const struct nearby_slot_key *skey, __u32 backend_id)
{
	struct nearby_affinity_key k = { .client = client, .svc_id = svc->id };
	struct nearby_affinity v = {
		.last_ns = bpf_ktime_get_ns(),
		.backend_id = backend_id,
		.tier = skey->tier,
		.index = skey->index,
	};

	if (svc->affinity_s)
		bpf_map_update_elem(&affinity, &k, &v, BPF_ANY);
}

struct pick {
	__u64 client; /* in: who connects (netns cookie), for MAGLEV and session affinity */
	const struct nearby_svc_value *svc;
	const struct nearby_backend *be;
	__u32 backend_id;
	__u32 tier;
};

/* Fail-open (nearby.h, control): the agent has not renewed its heartbeat within the bound it set,
 * and the service is not one nearby claims exclusively, so another proxy serves its VIP. A
 * heartbeat ahead of now (written just after this read of the clock) is fresh. */
static __always_inline int failing_open(const struct nearby_svc_key *key)
{
	const struct nearby_control *c;
	__u32 zero = 0;
	__u64 now;

	c = bpf_map_lookup_elem(&control, &zero);
	if (!c || !c->fail_open_ns)
		return 0;
	now = bpf_ktime_get_ns();
	if (now <= c->heartbeat_ns || now - c->heartbeat_ns <= c->fail_open_ns)
		return 0;
	return !bpf_map_lookup_elem(&claims, key);
}

/* Resolves (VIP, port, proto) to a backend. Returns 1 with *p filled, 0 when the destination is
 * not a service (leave the connect alone), -1 when it is a service with nothing to offer. */
static __always_inline int resolve(struct nearby_svc_key *key, struct pick *p)
{
	struct nearby_slot_key skey = {};
	__u32 size = 0, *backend_id;
	int tier;

	p->svc = bpf_map_lookup_elem(&services, key);
	if (!p->svc)
		return 0;
	if (failing_open(key))
		return 0;
	tier = choose(p->svc, &size);
	if (tier < 0) {
		count(p->svc->id, 0, CNT_REFUSED);
		return -1;
	}
	backend_id = affinity_backend(p->svc, tier, p->client, key->proto, &skey);
	if (!backend_id) {
		backend_id = pick_slot(p->svc, tier, size, p->client, &skey);
		backend_id = avoid_ejected(p->svc, tier, size, &skey, backend_id, key->proto);
		if (backend_id)
			affinity_remember(p->svc, p->client, &skey, *backend_id);
	}
	tier = skey.tier;
	if (!backend_id)
		goto refused;
	p->be = bpf_map_lookup_elem(&backends, backend_id);
	if (!p->be || p->be->family != key->family)
		goto refused;
	p->backend_id = *backend_id;
	p->tier = tier;
	count(p->svc->id, tier, CNT_ATTEMPT);
	return 1;
refused:
	/* Unreachable while the agent keeps the write order; counted so it would show. */
	count(p->svc->id, tier, CNT_REFUSED);
	return -1;
}

static __always_inline int refuse(struct bpf_sock_addr *ctx)
{
	/* Fail at once with a meaningful errno instead of letting the VIP go out unrewritten. */
	bpf_set_retval(-NEARBY_ERRNO_NO_ENDPOINT);
	return 0;
}

static __always_inline void key_from_ctx4(struct bpf_sock_addr *ctx, struct nearby_svc_key *key)
{
	key->addr[0] = ctx->user_ip4;
	key->port = (__u16)ctx->user_port;
	key->proto = ctx->protocol;
	key->family = AF_INET;
}

static __always_inline void key_from_ctx6(struct bpf_sock_addr *ctx, struct nearby_svc_key *key)
{
	key->addr[0] = ctx->user_ip6[0];
	key->addr[1] = ctx->user_ip6[1];
	key->addr[2] = ctx->user_ip6[2];
	key->addr[3] = ctx->user_ip6[3];
	key->port = (__u16)ctx->user_port;
	key->proto = ctx->protocol;
	key->family = AF_INET6;
}

/* family is a compile-time constant at every call site: the verifier rejects even dead
 * user_ip6 writes in a v4 program, so the branch must fold away. */
static __always_inline void set_dest(struct bpf_sock_addr *ctx, const __u32 *addr, __u16 port,
				     const __u8 family)
{
	if (family == AF_INET) {
		ctx->user_ip4 = addr[0];
	} else {
		ctx->user_ip6[0] = addr[0];
		ctx->user_ip6[1] = addr[1];
		ctx->user_ip6[2] = addr[2];
		ctx->user_ip6[3] = addr[3];
	}
	ctx->user_port = port;
}

static __always_inline int do_connect(struct bpf_sock_addr *ctx, struct nearby_svc_key *key,
				      const __u8 family)
{
	struct nearby_sock_meta *meta;
	struct pick p = { .client = bpf_get_netns_cookie(ctx) };
	int rc;

	rc = resolve(key, &p);
	if (rc == 0) {
		/* A reconnect (UDP) to a non-service address must not keep showing an old VIP. */
		bpf_sk_storage_delete(&sock_meta, ctx->sk);
		return 1;
	}
	if (rc < 0)
		return refuse(ctx);

	meta = bpf_sk_storage_get(&sock_meta, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (meta) {
		__builtin_memcpy(meta->vip, key->addr, sizeof(meta->vip));
		meta->vip_port = key->port;
		meta->family = key->family;
		meta->tier = p.tier;
		meta->svc_id = p.svc->id;
		meta->backend_id = p.backend_id;
		__builtin_memcpy(meta->backend_addr, p.be->addr, sizeof(meta->backend_addr));
		meta->backend_port = p.be->port;
		meta->outcome = NEARBY_OUTCOME_NONE;
	}
	set_dest(ctx, p.be->addr, p.be->port, family);
	return 1;
}

SEC("cgroup/connect4")
int nearby_connect4(struct bpf_sock_addr *ctx)
{
	struct nearby_svc_key key = {};

	key_from_ctx4(ctx, &key);
	return do_connect(ctx, &key, AF_INET);
}

SEC("cgroup/connect6")
int nearby_connect6(struct bpf_sock_addr *ctx)
{
	struct nearby_svc_key key = {};

	key_from_ctx6(ctx, &key);
	return do_connect(ctx, &key, AF_INET6);
}

/* Unconnected UDP: every datagram is balanced on its own, and the reply path is remembered per
 * socket and backend so recvmsg can show the VIP. */
static __always_inline int do_sendmsg(struct bpf_sock_addr *ctx, struct nearby_svc_key *key,
				      const __u8 family)
{
	struct nearby_rev_key rkey = {};
	struct nearby_rev_value rval = {};
	struct pick p = { .client = bpf_get_netns_cookie(ctx) };
	int rc;

	rc = resolve(key, &p);
	if (rc == 0)
		return 1;
	if (rc < 0)
		return refuse(ctx);

	rkey.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(rkey.addr, p.be->addr, sizeof(rkey.addr));
	rkey.port = p.be->port;
	rkey.family = key->family;
	__builtin_memcpy(rval.addr, key->addr, sizeof(rval.addr));
	rval.port = key->port;
	bpf_map_update_elem(&rev_nat, &rkey, &rval, BPF_ANY);
	set_dest(ctx, p.be->addr, p.be->port, family);
	return 1;
}

SEC("cgroup/sendmsg4")
int nearby_sendmsg4(struct bpf_sock_addr *ctx)
{
	struct nearby_svc_key key = {};

	key_from_ctx4(ctx, &key);
	return do_sendmsg(ctx, &key, AF_INET);
}

SEC("cgroup/sendmsg6")
int nearby_sendmsg6(struct bpf_sock_addr *ctx)
{
	struct nearby_svc_key key = {};

	key_from_ctx6(ctx, &key);
	return do_sendmsg(ctx, &key, AF_INET6);
}

static __always_inline int addr_eq(const __u32 *a, const __u32 *b, __u8 family)
{
	if (family == AF_INET)
		return a[0] == b[0];
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Shows the VIP instead of the backend: for a connected socket from its sock_meta, for an
 * unconnected UDP socket from rev_nat. */
static __always_inline void restore_vip(struct bpf_sock_addr *ctx, __u8 family)
{
	struct nearby_rev_key rkey = {};
	struct nearby_rev_value *rval;
	struct nearby_sock_meta *meta;
	__u32 peer[4] = {};

	if (family == AF_INET) {
		peer[0] = ctx->user_ip4;
	} else {
		peer[0] = ctx->user_ip6[0];
		peer[1] = ctx->user_ip6[1];
		peer[2] = ctx->user_ip6[2];
		peer[3] = ctx->user_ip6[3];
	}

	meta = bpf_sk_storage_get(&sock_meta, ctx->sk, 0, 0);
	if (meta && meta->family == family && meta->backend_port == (__u16)ctx->user_port &&
	    addr_eq(meta->backend_addr, peer, family)) {
		set_dest(ctx, meta->vip, meta->vip_port, family);
		return;
	}

	rkey.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(rkey.addr, peer, sizeof(rkey.addr));
	rkey.port = (__u16)ctx->user_port;
	rkey.family = family;
	rval = bpf_map_lookup_elem(&rev_nat, &rkey);
	if (!rval)
		return;
	set_dest(ctx, rval->addr, rval->port, family);
}

SEC("cgroup/recvmsg4")
int nearby_recvmsg4(struct bpf_sock_addr *ctx)
{
	restore_vip(ctx, AF_INET);
	return 1;
}

SEC("cgroup/recvmsg6")
int nearby_recvmsg6(struct bpf_sock_addr *ctx)
{
	restore_vip(ctx, AF_INET6);
	return 1;
}

SEC("cgroup/getpeername4")
int nearby_getpeername4(struct bpf_sock_addr *ctx)
{
	restore_vip(ctx, AF_INET);
	return 1;
}

SEC("cgroup/getpeername6")
int nearby_getpeername6(struct bpf_sock_addr *ctx)
{
	restore_vip(ctx, AF_INET6);
	return 1;
}

/* LEAST_REQUEST's load: +1 per established connection, -1 at its close. The socket's callbacks
 * run under its lock, so conn_open makes each connection count and uncount exactly once. */
static __always_inline void conn_opened(struct nearby_sock_meta *meta)
{
	__u32 one = 1, *n;

	if (meta->conn_open)
		return;
	meta->conn_open = 1;
	n = bpf_map_lookup_elem(&backend_conns, &meta->backend_id);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	if (bpf_map_update_elem(&backend_conns, &meta->backend_id, &one, BPF_NOEXIST) == 0)
		return;
	/* Another CPU created the row meanwhile (or the map is full: then the row is missing). */
	n = bpf_map_lookup_elem(&backend_conns, &meta->backend_id);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		meta->conn_open = 0;
}

static __always_inline void conn_closed(struct nearby_sock_meta *meta)
{
	__u32 *n;

	if (!meta->conn_open)
		return;
	meta->conn_open = 0;
	n = bpf_map_lookup_elem(&backend_conns, &meta->backend_id);
	if (n)
		__sync_fetch_and_sub(n, 1);
}

/*
 * Passive ejection, sock_ops side (docs/outlier-detection.md): consecutive failed connects per
 * backend, and the ejection itself, decided here without the agent.
 */

#define EJECTION_CAP_NS (300ULL * 1000000000ULL) /* Envoy: max(300 s, baseEjectionTime) */

static __always_inline struct nearby_backend_health *health_row(const __u32 *backend_id)
{
	struct nearby_backend_health zero = {}, *h = bpf_map_lookup_elem(&backend_health, backend_id);

	if (h)
		return h;
	/* NOEXIST: another CPU may have created the row meanwhile; then use theirs. */
	bpf_map_update_elem(&backend_health, backend_id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&backend_health, backend_id);
}

static __always_inline struct nearby_svc_ejections *ejections_row(const __u32 *svc_id)
{
	struct nearby_svc_ejections zero = {}, *st = bpf_map_lookup_elem(&svc_ejections, svc_id);

	if (st)
		return st;
	bpf_map_update_elem(&svc_ejections, svc_id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&svc_ejections, svc_id);
}

/* Endpoints of the service the socket dialled, all tiers: what maxEjectionPercent is a share of
 * (Envoy counts the whole cluster too, not one priority). 0 when the service changed id. */
static __always_inline __u32 service_endpoints(const struct nearby_sock_meta *meta)
{
	struct nearby_svc_key key = {};
	struct nearby_svc_value *svc;
	__u32 n = 0;
	int t;

	__builtin_memcpy(key.addr, meta->vip, sizeof(key.addr));
	key.port = meta->vip_port;
	key.proto = IPPROTO_TCP;
	key.family = meta->family;
	svc = bpf_map_lookup_elem(&services, &key);
	if (!svc || svc->id != meta->svc_id)
		return 0;
	for (t = 0; t < NEARBY_MAX_TIERS; t++)
		n += svc->count[t];
	return n;
}

/* Envoy's multiplier decays by one per interval the backend spends not ejected. Without timers
 * the kernel applies the decay for every whole interval since the last ejection ended, at the
 * moment it matters: the next ejection. */
static __always_inline __u32 decayed_multiplier(const struct nearby_backend_health *h,
						const struct nearby_outlier *cfg, __u64 now)
{
	__u64 healthy;

	if (!cfg->interval_ns || now <= h->decay_from)
		return h->multiplier;
	healthy = (now - h->decay_from) / cfg->interval_ns;
	return healthy >= h->multiplier ? 0 : h->multiplier - (__u32)healthy;
}

/* Ejects the backend if the service's budget allows: Envoy's rule, (ejected + 1) / endpoints
 * <= maxEjectionPercent, or nothing ejected yet (one backend can always be ejected). The
 * service's lock makes the count and the ejection one step across CPUs. */
static __always_inline void try_eject(const struct nearby_sock_meta *meta, const struct nearby_outlier *cfg,
				      struct nearby_backend_health *h, __u64 now)
{
	__u32 endpoints = service_endpoints(meta), active = 0, free = NEARBY_MAX_EJECTED, i, mult;
	struct nearby_svc_ejections *st;
	__u64 cap, length;
	int written;

	if (!endpoints)
		return;
	st = ejections_row(&meta->svc_id);
	if (!st)
		return;
	cap = cfg->base_ns > EJECTION_CAP_NS ? cfg->base_ns : EJECTION_CAP_NS;
	bpf_spin_lock(&st->lock);
	if (h->ejected_until > now) /* another CPU ejected it meanwhile */
		goto out;
	/* Unrolled: each slot at a constant offset, so no speculative path walks a pointer past the
	 * value (see at_tier). */
#pragma unroll
	for (i = 0; i < NEARBY_MAX_EJECTED; i++) {
		if (st->until[i] > now)
			active++;
		else if (free == NEARBY_MAX_EJECTED)
			free = i;
	}
	if (free >= NEARBY_MAX_EJECTED)
		goto out;
	if (active && (__u64)(active + 1) * 100 > (__u64)cfg->max_percent * endpoints)
		goto out;
	mult = decayed_multiplier(h, cfg, now) + 1;
	length = cfg->base_ns * mult;
	if (length > cap)
		length = cap;
	h->multiplier = mult;
	h->ejected_until = now + length;
	h->decay_from = now + length;
	h->failures = 0; /* re-admitted with a clean count */
	h->ejections++;
	h->svc_id = meta->svc_id;
	/* The first free slot again (the lock is held: the same one), written in an unrolled loop so
	 * that each slot is addressed at a constant offset: without CAP_PERFMON the verifier refuses
	 * st + free, an offset that differs between paths through one instruction. */
	written = 0;
#pragma unroll
	for (i = 0; i < NEARBY_MAX_EJECTED; i++) {
		if (written || st->until[i] > now)
			continue;
		st->until[i] = now + length;
		st->backend[i] = meta->backend_id;
		st->tier[i] = meta->tier;
		written = 1;
	}
	st->ejections++;
out:
	bpf_spin_unlock(&st->lock);
}

/* A handshake that did not complete: refused, reset, or not answered by the first SYN timeout. */
static __always_inline void connect_failed(struct nearby_sock_meta *meta)
{
	struct nearby_backend_health *h;
	struct nearby_outlier *cfg;
	__u64 now;

	if (meta->outcome == NEARBY_OUTCOME_FAILED)
		return; /* an RTO already told it; the close that follows is the same failure */
	meta->outcome = NEARBY_OUTCOME_FAILED;
	cfg = bpf_map_lookup_elem(&outlier, &meta->svc_id);
	if (!cfg || !cfg->consecutive)
		return;
	h = health_row(&meta->backend_id);
	if (!h)
		return;
	now = bpf_ktime_get_ns();
	/* A connect picked before the ejection, failing after it: already accounted for. */
	if (h->ejected_until > now)
		return;
	if (__sync_add_and_fetch(&h->failures, 1) < cfg->consecutive)
		return;
	try_eject(meta, cfg, h, now);
}

static __always_inline void connect_succeeded(const struct nearby_sock_meta *meta)
{
	struct nearby_backend_health *h = bpf_map_lookup_elem(&backend_health, &meta->backend_id);

	/* Written only when set, so healthy backends' rows are not bounced between CPUs. */
	if (h && h->failures)
		h->failures = 0;
}

/* TCP outcome per (service, tier). Only sockets that connect4/6 rewrote carry sock_meta. */
SEC("sockops")
int nearby_sockops(struct bpf_sock_ops *skops)
{
	struct nearby_sock_meta *meta;
	struct bpf_sock *sk = skops->sk;

	if (!sk)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		meta = bpf_sk_storage_get(&sock_meta, sk, 0, 0);
		if (meta)
			/* Ask for state changes only for our sockets, to see a failed handshake, and
			 * for retransmission timeouts, to see an unanswered SYN before the app gives up. */
			bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_RTO_CB_FLAG);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		meta = bpf_sk_storage_get(&sock_meta, sk, 0, 0);
		if (meta) {
			count(meta->svc_id, meta->tier, CNT_ESTABLISHED);
			connect_succeeded(meta);
			conn_opened(meta);
			/* State callbacks stay on: the close is what uncounts the connection. */
		}
		break;
	case BPF_SOCK_OPS_RTO_CB:
		/* The first SYN went unanswered for an RTO (1 s by default): a black-holed backend
		 * counts as failing now rather than when the application's connect timeout ends. */
		if (skops->state != 2 /* TCP_SYN_SENT */)
			break;
		meta = bpf_sk_storage_get(&sock_meta, sk, 0, 0);
		if (meta)
			connect_failed(meta);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		/* args[0] old state, args[1] new state. Every end of a TCP socket (FIN, RST, timeout,
		 * TIME_WAIT handover) passes through TCP_CLOSE. */
		if (skops->args[1] != 7 /* TCP_CLOSE */)
			break;
		meta = bpf_sk_storage_get(&sock_meta, sk, 0, 0);
		if (!meta)
			break;
		if (skops->args[0] == 2 /* TCP_SYN_SENT */) {
			count(meta->svc_id, meta->tier, CNT_FAILED);
			connect_failed(meta);
		}
		conn_closed(meta);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
