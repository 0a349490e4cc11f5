# Build stage: `make product` compiles the BPF object with clang and the product's TypeScript with
# tsc (tsconfig.build.json: the agent, nearbyctl and pkg/, the same files CI's `make build`
# compiles, without the lab or the tests). The packages are the Makefile's APT_PKGS (plus make),
# so its `apt` step finds them all and installs nothing. --workspaces=false leaves out the lab
# package (lab/), a workspace the product never imports.
FROM node:20-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev bpftool iproute2 iptables nftables curl openssl make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --workspaces=false
COPY . .
RUN make product && npm prune --omit=dev --workspaces=false

# Runtime: Node, the system libbpf that koffi binds to, the product's compiled JS and BPF object only.
FROM node:20-bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libbpf1 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/nearby
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/bpf ./build/bpf
COPY package.json ./
USER 0
# V8 sized for 10,000 Services / 100,000 endpoints (live heap ~113 MiB there), as npm run
# bench:control runs it: the old-space cap makes V8 collect before the heap balloons, and 4 MiB
# semi-spaces (default 16) keep the young generation's garbage from adding ~11 MiB of RSS for
# ~0.1 s more full sync. Raise the cap with the container's memory limit for larger clusters.
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=4"
# One malloc arena for every thread: glibc gives each of Node's threads (V8's GC and compiler
# workers, libuv's pool) an arena of its own, and what they free stays mapped there. With three
# clusters of 10,000 Services that was ~10-15 MiB of the agent's peak RSS (docs/performance.md,
# "Several clusters"); the agent's malloc traffic is light enough that sharing one costs no
# measurable time there.
ENV MALLOC_ARENA_MAX=1
ENTRYPOINT ["node", "dist/cmd/agent.js"]
