# nearby — build, test and demo entry points. Every target installs what it needs, so a fresh
# machine only needs `make test` or `make demo`.

SHELL := /bin/bash
ARCH := $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))
BUILD := build
BPF_OBJ := $(BUILD)/bpf/nearby.bpf.o
BPF_SRC := $(wildcard bpf/*.c) $(wildcard bpf/*.h)
APT_PKGS := clang llvm libbpf-dev bpftool iproute2 iptables nftables curl openssl
# Only for make node-components (runc is built with seccomp): not in the image, not for make test.
NODE_APT_PKGS := libseccomp-dev pkg-config
# Only for make images (test/images/build.sh): Debian root filesystems (mmdebstrap), the images
# made and the Dockerfile built on them (buildah), and the static pause binary (gcc, libc6-dev's
# libc.a). Not in the image, not for make test.
IMAGE_APT_PKGS := mmdebstrap buildah gcc libc6-dev
CLANG ?= clang

.PHONY: all deps apt npm bpffs bpf build product lint test test-unit test-kernel test-prometheus test-real-nodes bench bench-c bench-maps bench-connect bench-connect-ejection bench-programming demo demo-cluster demo-real-nodes demo-real-nodes-helm demo-003 demo-004 clean control-plane kube-proxy node-components e2e-test e2e-upstream helm prometheus coredns image images dashboard-png cost-growth-plot

all: build

deps: apt npm

# Install the Debian packages only when one of their tools is missing, so repeat runs are fast.
apt:
	@missing=""; \
	command -v $(CLANG) >/dev/null || missing="$$missing clang"; \
	command -v llvm-strip >/dev/null || missing="$$missing llvm"; \
	[ -f /usr/include/bpf/libbpf.h ] || missing="$$missing libbpf-dev"; \
	command -v bpftool >/dev/null || missing="$$missing bpftool"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v iptables >/dev/null || missing="$$missing iptables"; \
	command -v nft >/dev/null || missing="$$missing nftables"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
	  echo ">> installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root to apt-get install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

npm: node_modules/.package-lock.json

# bpffs must be mounted for pinning; mount it only when nothing is there yet.
bpffs:
	@if ! mount | grep -q ' /sys/fs/bpf type bpf '; then \
	  echo ">> mounting bpffs on /sys/fs/bpf"; mount -t bpf bpf /sys/fs/bpf; fi

# -sink-common-insts=false: the agent runs without CAP_PERFMON, and then the verifier refuses a
# map-value offset that differs between paths through one instruction. The program writes such
# arrays in unrolled loops, one constant offset per slot; this keeps clang from merging those
# stores back into one indexed store (bpf/nearby.bpf.c, "Verifier cost").
$(BPF_OBJ): $(BPF_SRC) Makefile | apt
	@mkdir -p $(dir $@)
	$(CLANG) -target bpf -mcpu=v3 -O2 -g -Wall -Werror -D__TARGET_ARCH_$(BPF_ARCH) \
	  -mllvm -sink-common-insts=false \
	  -I/usr/include/$(ARCH)-linux-gnu -c bpf/nearby.bpf.c -o $@

bpf: $(BPF_OBJ)

# Everything into dist/: the product (cmd/, pkg/), the lab package (lab/) and the tests. The
# stamp lives in dist/, so tsc runs again when a source changes or dist/ is gone, and a repeat
# `make demo` starts at once instead of waiting for a full compile.
# Make's own wildcard, not find: targets such as `make image` must parse with a bare PATH.
ts_under = $(foreach entry,$(wildcard $(addsuffix /*,$(1))),$(if $(findstring node_modules,$(entry)),,$(filter %.ts,$(entry)) $(call ts_under,$(entry))))
TS_SRC := $(call ts_under,cmd pkg lab test)
dist/.built: $(TS_SRC) tsconfig.json tsconfig.base.json package-lock.json | npm
	npx tsc -p tsconfig.json
	@touch $@

build: deps bpf dist/.built

# The product alone (tsconfig.build.json: the agent, nearbyctl and the packages they import),
# what the image ships; the same dist/ layout, without lab/ or test/.
product: deps bpf
	npx tsc -p tsconfig.build.json

# ESLint (type-checked, eslint.config.js) and Prettier (.prettierrc.json) over the whole repository.
lint: npm
	npm run lint

# Everything, the Prometheus tests too: promtool's rule tests (test/prometheus/) and the lab's
# Prometheus (test/e2e/lab-prometheus.test.ts) need make prometheus, cached after its first build.
test: build lint bpffs control-plane kube-proxy helm prometheus
	npx vitest run

test-unit: build
	npx vitest run test/unit

test-kernel: build bpffs
	npx vitest run test/kernel

# The Prometheus tests alone: the alert rules under promtool and the lab's Prometheus.
test-prometheus: build bpffs control-plane prometheus
	npx vitest run test/prometheus test/e2e/lab-prometheus.test.ts

# The real-node lab (docs/real-nodes.md): real kubelets and containerd per node, pods from the images
# make images builds, the seed's samples answering through nearby. Not part of make test: from a cold
# cache its node components and images take tens of minutes to build.
test-real-nodes: build bpffs control-plane node-components images helm
	NEARBY_REAL_NODES=1 npx vitest run

# Numbers, not pass/fail: the control plane (5,000 nodes, 10,000 Services, 100,000 endpoints)
# and the writer at the Kubernetes scale limits, what one incremental pass costs in map operations,
# the writer against C (bench-maps) and connect latency direct and through nearby (bench-connect).
bench: build bpffs
	MALLOC_ARENA_MAX=1 node --max-old-space-size=192 --max-semi-space-size=4 dist/test/bench/control-plane.js
	npx tsx test/bench/writer-throughput.ts
	npx tsx test/bench/incremental-pass.ts --kernel
	npm run bench:maps -- --json
	npm run bench:connect -- --json --program-timeout-seconds 300
	npm run bench:connect -- --json --ejection --nearby-source file --peers '' --services 1000 --endpoints 10000
	npm run bench:programming -- --json --systems $(BENCH_PROGRAMMING_SYSTEMS) --setup parallel --program-timeout-seconds 600 --change-timeout-seconds 120

# The benchmarks' C programs: the writer's floor (map-writer) and the connect benchmark's endpoint
# server and client, and the programming benchmark's probe. Built against the system libbpf,
# never committed (build/).
BENCH_C := $(BUILD)/bench/map-writer $(BUILD)/bench/endpoint-server $(BUILD)/bench/connect-client $(BUILD)/bench/name-probe

$(BUILD)/bench/map-writer: test/bench/c/map-writer.c bpf/nearby.h | apt
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -lbpf

$(BUILD)/bench/%: test/bench/c/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -pthread -o $@ $<

bench-c: $(BENCH_C)

# The writer against the same writes from C, per endpoint, bulk and single (about 1 minute on
# 2 cores at 10,000 Services / 100,000 endpoints). Not part of make test.
bench-maps: npm bpffs
	npm run bench:maps -- --json

# Connect+close latency direct to a pod, through nearby's VIP and through kube-proxy (iptables
# over nf_tables, iptables over the legacy x_tables, nftables) with the same 10,000 Services
# created through the lab's API server. On 2 cores about 15 minutes: loading the Services about
# 3 minutes on a quiet machine (up to 10 under load), nearby, iptables legacy and nftables under a
# minute each, the rounds about 2, and kube-proxy iptables over nf_tables given 5 minutes, which
# its first sync does not finish here (iptables-nft restore of 310,005 rules; reported as not
# programmed). --services 1000 runs in about 3 minutes (docs/performance.md). Not part of make test.
bench-connect: npm bpffs bpf control-plane kube-proxy
	npm run bench:connect -- --json --program-timeout-seconds 300

# The same with ejection state present (docs/outlier-detection.md): a second agent whose Services
# have outlier detection, the measured one with its closest tier and one more endpoint ejected by
# the kernel. FileSource, no kube-proxy, 1,000 Services: 5-7 minutes on 2 cores.
bench-connect-ejection: npm bpffs bpf
	npm run bench:connect -- --json --ejection --nearby-source file --peers '' --services 1000 --endpoints 10000

# EndpointSlice change to first connect reaching the new endpoint, nearby against kube-proxy
# (iptables over the legacy x_tables, nftables; default sync and minSyncPeriod 0), 200 changes at
# 10,000 Services. The kube-proxies start at once and get 10 minutes to program everything.
# iptables over nf_tables is left out at this scale (its first sync does not finish in 31 minutes
# here, see bench-connect; --systems adds it). On 2 cores, quiet, about 30 minutes: loading about
# 3, then about 7 s per change (kube-proxy nftables syncs for 4-5 s). Not part of make test.
BENCH_PROGRAMMING_SYSTEMS := nearby,iptables_legacy,iptables_legacy_sync0,nftables,nftables_sync0
bench-programming: npm bpffs bpf control-plane kube-proxy
	npm run bench:programming -- --json --systems $(BENCH_PROGRAMMING_SYSTEMS) --setup parallel --program-timeout-seconds 600 --change-timeout-seconds 120

# Seeds 000/002's locality experiment at once: real kernel, real agents, on the lab's own
# controllers (--files), so nothing waits for Kubernetes to compile. A minute or so the first
# time (npm ci, tsc, the BPF object), about 5 s of demo after that.
demo: build bpffs
	node dist/cmd/nearbyctl.js demo --files

# The same experiment on the lab's real control plane with the seed's own kubectl commands. The
# first run builds Kubernetes (control-plane, about 7-15 min on 2 cores; build.sh prints its
# progress), later runs start at once.
demo-cluster: build bpffs control-plane
	node dist/cmd/nearbyctl.js demo

# The same experiment on the real-node lab (docs/real-nodes.md): real kubelets and containerd, pods
# from the images make images builds, and nearby installed as deploy/'s DaemonSet with kubectl apply -k.
# From a cold cache the node components and images take tens of minutes; later runs start at once.
demo-real-nodes: build bpffs control-plane node-components images
	node dist/cmd/nearbyctl.js demo --real-nodes

# The same, with nearby installed by `helm install` of deploy/helm/nearby instead of kubectl apply -k.
demo-real-nodes-helm: build bpffs control-plane node-components images helm
	node dist/cmd/nearbyctl.js demo --real-nodes --install helm

# Seed 003 (multi-AZ locality with DestinationRules) on the lab's real control plane.
demo-003: build bpffs control-plane
	node dist/cmd/nearbyctl.js demo --experiment 003

# Seed 004 (two clusters, locality-weighted distribution across them) on two real control planes.
demo-004: build bpffs control-plane
	node dist/cmd/nearbyctl.js demo --experiment 004

# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl of one pinned release
# (test/control-plane/versions.env): taken from KUBEBUILDER_ASSETS/PATH when they match, else
# built once from Go modules into a cache outside the repository.
control-plane:
	@bash test/control-plane/build.sh

# kube-proxy of the same release, the peer the benchmarks measure nearby against: built the same
# way into the same cache. A set of its own so `make control-plane` stays what the lab needs;
# `make test` builds it because test/cluster/kube-proxy-peer.test.ts runs it, which is cheap: about
# 30 s once the control plane is built (shared modules and packages), a no-op after that.
kube-proxy:
	@bash test/control-plane/build.sh kube-proxy

# What a real lab node runs (issue 17, docs/real-nodes.md): the kubelet of the control plane's
# release, containerd, runc and the CNI plugins of test/control-plane/node.env, built once from
# Go modules into the same cache. Not part of make test: nothing runs them yet.
node-components:
	@if [ ! -f /usr/include/seccomp.h ] || ! command -v pkg-config >/dev/null; then \
	  echo ">> installing: $(NODE_APT_PKGS)"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root to apt-get install: $(NODE_APT_PKGS)" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(NODE_APT_PKGS) >/dev/null; \
	fi
	@bash test/control-plane/build-node.sh

# Kubernetes' own e2e suite (e2e.test) of the control plane's release, built once into the same
# cache (`go test -c k8s.io/kubernetes/test/e2e`; about 20 min on 2 cores once the control plane is
# built). Only make e2e-upstream needs it.
e2e-test:
	@bash test/control-plane/build.sh e2e-test

# The upstream tests nearby must pass (docs/real-nodes.md, "Kubernetes' own tests"): the
# [sig-network] Traffic Distribution tests and the internalTrafficPolicy tests of
# test/e2e/network/service.go, as Ginkgo's --focus (it matches each test's full name; the dry run
# `make e2e-upstream E2E_UPSTREAM_ARGS=--dry-run` lists the 11 it selects).
E2E_UPSTREAM_FOCUS := \[sig-network\] Traffic Distribution |\[sig-network\] Services .*internalTrafficPolicy
E2E_UPSTREAM_ARGS ?=
# Runs them against $KUBECONFIG, or the running lab E2E_UPSTREAM_ARGS="--lab NAME" names; with
# neither it brings up the real-node lab of test/upstream-e2e/kind-zones.yaml (3 zones of 2 workers)
# with nearby's DaemonSet and CoreDNS, and brings it down after. Prints one line per test. Needs
# root. Not part of make test.
e2e-upstream: build bpffs control-plane node-components images helm e2e-test
	npx tsx test/upstream-e2e/main.ts --focus '$(E2E_UPSTREAM_FOCUS)' $(E2E_UPSTREAM_ARGS)

# helm v3 of the release pinned in test/control-plane/helm.env, for the tests that render
# deploy/helm/nearby: taken from PATH when it matches, else built once from its Go module into the
# same cache as the control plane.
helm:
	@bash test/control-plane/build-helm.sh

# Prometheus and promtool of the release pinned in test/control-plane/prometheus.env, for
# `nearbyctl lab up --control-plane --prometheus` and the alert-rule tests: taken from PATH when
# both match, else built once from the Go module github.com/prometheus/prometheus into the same
# cache as the control plane, with Kubernetes service discovery only.
prometheus:
	@bash test/control-plane/build-prometheus.sh

# CoreDNS of the release pinned in test/control-plane/coredns.env, the real-node lab's cluster DNS
# (lab/addons/coredns.yaml): built once from the Go module github.com/coredns/coredns into the same
# cache as the control plane, with the Corefile's plugins only. Not part of make test.
coredns:
	@bash test/control-plane/build-coredns.sh

# The agent image (Dockerfile), tagged with package.json's version as deploy/ references it. Needs
# a container engine; `make test` does not depend on it. With buildah (the last one tried) it takes
# the no-registry route of `make images`: Debian bases made locally under the FROM lines' tags, the
# Dockerfile built with --pull=never, the result in that target's store and archive.
IMAGE ?= ghcr.io/nearby-lb/nearby-agent
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
image:
	@engine="$(CONTAINER_ENGINE)"; tried=""; \
	if [ -z "$$engine" ]; then \
	  for candidate in docker podman nerdctl buildah; do \
	    command -v $$candidate >/dev/null || continue; \
	    if $$candidate info >/dev/null 2>&1; then engine=$$candidate; break; fi; \
	    tried="$$tried $$candidate (installed, but \`$$candidate info\` fails: no daemon/engine answers)"; \
	  done; \
	fi; \
	if [ -z "$$engine" ]; then \
	  echo "error: make image needs a working container engine and there is none here;$${tried:- none of docker, podman, nerdctl, buildah is installed}." >&2; \
	  echo "       Start or install one, or set CONTAINER_ENGINE=<command>." >&2; \
	  exit 1; \
	fi; \
	if [ "$$engine" = buildah ]; then \
	  echo ">> buildah: test/images/build.sh agent (Debian bases made here, nothing pulled)"; \
	  NEARBY_AGENT_IMAGE=$(IMAGE):$(VERSION) exec $(SHELL) test/images/build.sh agent; \
	fi; \
	echo ">> $$engine build -t $(IMAGE):$(VERSION) ."; \
	$$engine build -t $(IMAGE):$(VERSION) .

# Every image a real lab node runs (issue 17, docs/real-nodes.md), built here with no registry:
# Debian bases from mmdebstrap tagged as the Dockerfile's FROM lines, the Dockerfile built by
# buildah as $(IMAGE):$(VERSION), pause, the seeds' samples and agnhost, each exported as an
# archive `ctr images import` loads, into ${NEARBY_CACHE:-~/.cache/nearby}/images. Minutes the
# first time, a no-op after that. Needs root and Go; not part of make test.
images: npm
	@missing=""; \
	command -v mmdebstrap >/dev/null || missing="$$missing mmdebstrap"; \
	command -v buildah >/dev/null || missing="$$missing buildah"; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	[ -f /usr/lib/$(ARCH)-linux-gnu/libc.a ] || missing="$$missing libc6-dev"; \
	if [ -n "$$missing" ]; then \
	  echo ">> installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root to apt-get install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(IMAGE_APT_PKGS) >/dev/null; \
	fi
	@NEARBY_AGENT_IMAGE=$(IMAGE):$(VERSION) bash test/images/build.sh

# docs/images/dashboard.png: the Grafana dashboard drawn from sample data and screenshotted by
# headless Chromium (Debian's package, installed when missing). Not part of build or test.
dashboard-png: npm
	@command -v chromium >/dev/null || { echo ">> installing: chromium"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; }
	npx tsx test/tools/render-dashboard.ts deploy/grafana/nearby-dashboard.json docs/images/dashboard.png

clean:
	rm -rf $(BUILD) dist

# docs/images/cost-growth*.svg from the bench:connect runs recorded in docs/data/cost-growth*.jsonl
# (the quiet machine's runs and the earlier ones under load, drawn apart).
cost-growth-plot: npm
	npx tsx test/tools/render-cost-growth.ts docs/data/cost-growth-quiet.jsonl docs/images/cost-growth-quiet.svg
	npx tsx test/tools/render-cost-growth.ts docs/data/cost-growth.jsonl docs/images/cost-growth.svg
