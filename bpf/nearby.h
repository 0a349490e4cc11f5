/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nearby datapath contract.
 *
 * This header is the only definition of the maps shared between the BPF programs and the
 * agent (pkg/datapath/codecs.ts). A test reads the compiled object's BTF and checks every
 * size and offset below against the TypeScript codecs, so change both together.
 *
 * Byte order: addresses and ports are kept in network byte order, exactly as the sock_addr
 * context holds them, so the hot path copies them without conversion. IPv4 addresses use
 * addr[0]; addr[1..3] are zero.
 *
 * Who writes what:
 *   services, slots, backends  the agent (pkg/datapath writer), in the order
 *                              backends -> slots -> service entry, so that the kernel only
 *                              ever sees slots and backends that exist.
 *   sock_meta, rev_nat         the connect/sendmsg programs; the agent never writes them.
 *   counters                   the BPF programs; the agent reads them for metrics and deletes
 *                              a service's rows when it removes the service.
 *   rotation                   connect4/6 (ROUND_ROBIN services); the agent deletes a
 *                              service's row when it removes the service.
 *   backend_conns              sock_ops (open TCP connections per backend, for LEAST_REQUEST);
 *                              the agent deletes a backend's row when it deletes the backend.
 *   outlier                    the agent, before the service entry; deleted with the service.
 *   backend_health             sock_ops (failed/established connects, ejection); the agent
 *                              deletes a backend's row with the backend.
 *   svc_ejections              sock_ops (ejections in force per service, maxEjectionPercent);
 *                              the agent deletes a service's row with the service.
 *   affinity                   connect4/6 and sendmsg4/6 (services with session affinity); the
 *                              agent never writes or deletes it: rows age out by the timeout and
 *                              the LRU (service ids are not reused, so a removed service's rows
 *                              never match again).
 *   control, claims            the agent only: its heartbeat, --fail-open-after and the layout
 *                              version; the services it claims exclusively (never fail open).
 */
#ifndef NEARBY_H
#define NEARBY_H

#define NEARBY_MAX_TIERS 8

/* How a service picks its tier. The agent's planner decides; the kernel only executes. */
enum nearby_mode {
	NEARBY_MODE_RANDOM = 0,   /* uniform over every slot of every tier */
	NEARBY_MODE_FAILOVER = 1, /* the first tier with a non-zero count */
	NEARBY_MODE_STRICT = 2,   /* tier 0 only; empty tier 0 refuses the connect */
	NEARBY_MODE_WEIGHTED = 3, /* a non-empty tier drawn by weight[], then a slot in it */
	NEARBY_MODE_SPILLOVER = 4, /* FAILOVER with Envoy's priority load: a tier drawn by the
	                            * shares spill_load() gives from endpoints[], ready[],
	                            * overprovision and the ejections in force (svc_ejections) */
};

/* Envoy's default overprovisioning factor, 1.4, in percent (nearby_svc_value.overprovision). */
#define NEARBY_DEFAULT_OVERPROVISION 140

/* How a service picks an endpoint inside the tier its mode chose (for NEARBY_MODE_RANDOM, the
 * "tier" is every slot of every tier). pkg/contract's Balance holds the same names and values. */
enum nearby_balance {
	NEARBY_BALANCE_RANDOM = 0,        /* uniform */
	NEARBY_BALANCE_ROUND_ROBIN = 1,   /* the service's rotation (map rotation), exact per service */
	NEARBY_BALANCE_LEAST_REQUEST = 2, /* the less loaded of two random endpoints, by open TCP
	                                   * connections from this node (map backend_conns) */
	NEARBY_BALANCE_MAGLEV = 3,        /* consistent hash: the tier's slots are a Maglev lookup
	                                   * table (a backend id repeated over a prime number of slots,
	                                   * written by the agent); the client's network namespace
	                                   * cookie, hashed, picks the slot, so a client keeps its
	                                   * backend and losing one of N backends moves ~1/N clients */
};

/* Returned (negated) by connect()/sendmsg() when a known service has no usable endpoint.
 * ECONNREFUSED is what kube-proxy's REJECT rule gives for a Service without endpoints. */
#define NEARBY_ERRNO_NO_ENDPOINT 111 /* ECONNREFUSED */

/* sock_meta.outcome: whether sock_ops already told backend_health how the handshake ended. */
#define NEARBY_OUTCOME_NONE 0
#define NEARBY_OUTCOME_FAILED 1

/* backend.flags */
#define NEARBY_BACKEND_TERMINATING 0x1 /* serving but terminating (KEP-1669 fallback) */

/*
 * services: BPF_MAP_TYPE_HASH, written by the agent.
 *   key   (VIP, port, protocol, family) as dialled by the application.
 *   value the service id that names its slots, its mode, its balance and the live size of each
 *         tier; for SPILLOVER also what each tier's health is computed from.
 * Replacing the value is atomic, so the counts are the switch that makes new slots visible.
 */
struct nearby_svc_key {
	__u32 addr[4]; /* VIP, network byte order */
	__u16 port;    /* network byte order */
	__u8 proto;    /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;   /* AF_INET or AF_INET6 */
};

struct nearby_svc_value {
	__u32 id;                       /* 1.. ; 0 is never used */
	__u8 mode;                      /* enum nearby_mode */
	__u8 balance;                   /* enum nearby_balance; 0 (RANDOM) in entries older than it */
	__u16 overprovision;            /* SPILLOVER only: the overprovisioning factor in percent
	                                 * (140 = 1.4); 0 in every other mode */
	__u16 count[NEARBY_MAX_TIERS];  /* slots 0..count-1 of each tier are live */
	__u16 weight[NEARBY_MAX_TIERS]; /* WEIGHTED only: relative share of each tier */
	__u16 endpoints[NEARBY_MAX_TIERS]; /* SPILLOVER only: n, the tier's endpoints in the
	                                    * EndpointSlices that are not terminating, ready or not */
	__u16 ready[NEARBY_MAX_TIERS];  /* SPILLOVER only: the tier's distinct ready endpoints as
	                                 * the agent wrote them (not count[]: a MAGLEV tier's count
	                                 * is its table size). h = ready - ejected now */
	__u32 affinity_s;               /* sessionAffinity ClientIP: seconds a client keeps its
	                                 * backend since its last use (map affinity); 0 = none */
};

/*
 * slots: BPF_MAP_TYPE_HASH, written by the agent.
 *   key   (service id, tier, index) with index < count[tier] when live.
 *   value backend id (__u32). Each backend of a tier has one slot, except for
 *         NEARBY_BALANCE_MAGLEV, where the tier's count[tier] slots are its Maglev table and
 *         a backend fills about count/N of them; the slot's position is then its meaning.
 */
struct nearby_slot_key {
	__u32 svc_id;
	__u16 tier;
	__u16 index;
};

/*
 * backends: BPF_MAP_TYPE_HASH, written by the agent.
 *   key   backend id (__u32), shared by every slot that points at the same address:port.
 *   value where to send the connect.
 */
struct nearby_backend {
	__u32 addr[4]; /* network byte order */
	__u16 port;    /* target port, network byte order */
	__u8 family;   /* AF_INET or AF_INET6; must match the service key */
	__u8 flags;    /* NEARBY_BACKEND_* */
	__u32 node_id; /* agent-assigned id of the backend's node, for explain and metrics */
};

/*
 * sock_meta: BPF_MAP_TYPE_SK_STORAGE, written by connect4/6 on the connecting socket.
 * getpeername and recvmsg read it to show the VIP; sock_ops reads it to attribute counters and
 * sets/clears conn_open as it counts the connection in backend_conns.
 */
struct nearby_sock_meta {
	__u32 vip[4];
	__u16 vip_port;
	__u8 family;
	__u8 tier;
	__u32 svc_id;
	__u32 backend_id;
	__u32 backend_addr[4];
	__u16 backend_port;
	__u8 conn_open;                 /* counted in backend_conns; cleared when uncounted */
	__u8 outcome;                   /* NEARBY_OUTCOME_*: the connect's result, told to backend_health once */
};

/*
 * rev_nat: BPF_MAP_TYPE_LRU_HASH, written by sendmsg4/6 (unconnected UDP), read by recvmsg4/6
 * so that a reply from a backend appears to come from the VIP the application addressed.
 *   key   (socket cookie, backend address, backend port, family)
 *   value (VIP, VIP port)
 */
struct nearby_rev_key {
	__u64 cookie;
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 reserved[5];
};

struct nearby_rev_value {
	__u32 addr[4];
	__u16 port;
	__u16 reserved;
};

/*
 * counters: BPF_MAP_TYPE_PERCPU_HASH, written by the BPF programs, read by the agent.
 *   key   (service id, tier); tier is the one the connect was sent to (0 when refused).
 *   value per-CPU event counts.
 */
struct nearby_counter_key {
	__u32 svc_id;
	__u32 tier;
};

struct nearby_counter_value {
	__u64 attempts;    /* connects and unconnected sends rewritten to this tier */
	__u64 established; /* TCP handshakes completed (sock_ops) */
	__u64 failed;      /* TCP handshakes that never completed (sock_ops) */
	__u64 refused;     /* connects refused: no endpoint in the tiers the mode allows */
};

/*
 * rotation: BPF_MAP_TYPE_HASH, written by connect4/6 and sendmsg4/6 for ROUND_ROBIN services.
 *   key   service id (__u32).
 *   value __u32 position, advanced by one atomic add per pick; the pick is position % size of
 *         the chosen tier. Created on a service's first pick; the agent deletes it with the
 *         service. Sized like services.
 */

/*
 * backend_conns: BPF_MAP_TYPE_HASH, written by sock_ops.
 *   key   backend id (__u32).
 *   value __u32 TCP connections this node opened to the backend through nearby and that are not
 *         closed yet: +1 when a rewritten connect reaches ESTABLISHED (sock_meta.conn_open is
 *         set), -1 when that socket reaches TCP_CLOSE (and conn_open is cleared, so once).
 *         LEAST_REQUEST reads it; a missing row is 0. The agent deletes a backend's row with
 *         the backend (ids are not reused, so a row a late close recreates is only garbage, and
 *         read-back collects it). Sized like backends.
 */


/*
 * outlier: BPF_MAP_TYPE_HASH, written by the agent before the service entry that uses it.
 *   key   service id (__u32).
 *   value the service's passive-ejection settings (docs/outlier-detection.md). A missing row,
 *         or consecutive = 0, means the service never ejects (as kube-proxy). The agent deletes
 *         the row with the service. Sized like services.
 */
struct nearby_outlier {
	__u32 consecutive;   /* failed TCP connects in a row that eject a backend; 0 = off */
	__u32 max_percent;   /* maxEjectionPercent, 0..100; at least one backend may always be ejected */
	__u64 base_ns;       /* baseEjectionTime */
	__u64 interval_ns;   /* interval: the ejection multiplier decays by one per interval healthy */
};

/* Ejection deadlines one service keeps at once; also the probe window of the connect path. */
#define NEARBY_MAX_EJECTED 16

/*
 * backend_health: BPF_MAP_TYPE_HASH, written by sock_ops (and the connect path never writes it).
 *   key   backend id (__u32).
 *   value consecutive failed connects and ejection state. Times are bpf_ktime_get_ns()
 *         (CLOCK_MONOTONIC). A row is created at a backend's first failed connect of a service
 *         with outlier settings; the agent deletes it with the backend.
 */
struct nearby_backend_health {
	__u64 ejected_until; /* connects skip the backend while now < ejected_until */
	__u64 decay_from;    /* the multiplier has decayed up to here (end of the last ejection) */
	__u32 failures;      /* consecutive failed connects; reset by an established one */
	__u32 multiplier;    /* Envoy's ejection multiplier: ejection = base x multiplier */
	__u32 ejections;     /* times ejected, ever (metrics) */
	__u32 svc_id;        /* the service whose settings ejected it last */
};

/*
 * svc_ejections: BPF_MAP_TYPE_HASH, written by sock_ops under the value's spin lock.
 *   key   service id (__u32).
 *   value the service's ejections in force, for maxEjectionPercent and SPILLOVER's health:
 *         slot i holds a backend id, its tier and its deadline; a slot whose deadline passed is free. Ejections ever, for
 *         metrics. The agent deletes the row with the service. Sized like services.
 */
struct nearby_svc_ejections {
	struct bpf_spin_lock lock;
	__u32 ejections;                      /* ejections ever made through this service */
	__u64 until[NEARBY_MAX_EJECTED];      /* ktime ns; <= now is a free slot */
	__u32 backend[NEARBY_MAX_EJECTED];    /* backend id ejected in the slot */
	__u8 tier[NEARBY_MAX_EJECTED];        /* the tier the backend was ejected from (sock_meta.tier),
	                                       * so SPILLOVER counts each tier's ejected without a
	                                       * lookup per backend */
};

/*
 * affinity: BPF_MAP_TYPE_LRU_HASH, written by connect4/6 and sendmsg4/6 for services whose
 * affinity_s is set (docs/semantics.md, "Session affinity").
 *   key   (client network namespace cookie, service id): a pod is one network namespace; the
 *         node's host processes share one.
 *   value the backend the client was last sent to, where it was found (tier, slot index, a hint
 *         for the membership check), and when (bpf_ktime_get_ns()). A row older than the
 *         service's affinity_s is ignored and overwritten. Sized like rev_nat.
 */
struct nearby_affinity_key {
	__u64 client;
	__u32 svc_id;
	__u32 reserved;
};

struct nearby_affinity {
	__u64 last_ns;
	__u32 backend_id;
	__u16 tier;
	__u16 index;
};


/*
 * control: BPF_MAP_TYPE_ARRAY of one row (key 0), written by the agent only.
 *   heartbeat_ns  the agent's CLOCK_MONOTONIC (bpf_ktime_get_ns()) when it last renewed it.
 *   fail_open_ns  --fail-open-after; 0 = never fail open (the default). When set and
 *                 now - heartbeat_ns exceeds it, connect/sendmsg leave every service alone that
 *                 has no row in claims, so kube-proxy (or whatever serves the VIP) takes over.
 *   layout        NEARBY_LAYOUT_VERSION of the agent that pinned the maps; an agent built with
 *                 another one replaces the maps (docs/concepts.md, "Restarts and upgrades").
 */
#define NEARBY_LAYOUT_VERSION 2

struct nearby_control {
	__u64 heartbeat_ns;
	__u64 fail_open_ns;
	__u32 layout;
	__u32 reserved;
};

/*
 * claims: BPF_MAP_TYPE_HASH, written by the agent before the service entry; deleted with it.
 *   key   struct nearby_svc_key of a service nearby claims exclusively (labelled with its own
 *         service-proxy-name, which kube-proxy ignores): no other proxy serves it, so it never
 *         fails open.
 *   value __u8, 1. Read only when the heartbeat is stale. Sized like services.
 */
#endif /* NEARBY_H */
