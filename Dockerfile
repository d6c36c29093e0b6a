# syntax=docker/dockerfile:1
# proxmox-mcp container image: build with the official Rust image, run on Debian slim as a
# non-root user. Build: `docker build -t proxmox-mcp .`; run: see docker-compose.yml and
# docs/install.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=trixie

# --- build ------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# The whole workspace (see .dockerignore): Cargo needs every member to resolve the lock file.
COPY . .
# Cache mounts keep the registry and target directory between builds; the binary is copied out
# of the cached target directory because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile dist --locked -p proxmox-mcp \
 && install -D -m 0755 target/dist/proxmox-mcp /out/proxmox-mcp

# --- run --------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
# ca-certificates: the system trust store for clusters with a CA-signed certificate;
# curl: the HEALTHCHECK below (nothing else uses it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin proxmox-mcp \
 && mkdir -p /etc/proxmox-mcp
COPY --from=build /out/proxmox-mcp /usr/local/bin/proxmox-mcp

# Listen on every interface inside the container (the host decides what to publish). Flags and
# `docker run -e` override these; a config file does not (environment wins over the file).
ENV PROXMOX_MCP_LISTEN=0.0.0.0:8812 \
    PROXMOX_MCP_REST_LISTEN=0.0.0.0:8811
# 8811: REST (POST /<tool>, /openapi.json, /docs); 8812: MCP (/proxmox/mcp: Streamable HTTP and SSE).
EXPOSE 8811 8812

USER 10001:10001
# Alive = /healthz on the MCP port answers 200 (it calls nothing; /readyz also asks the cluster,
# /metrics is for Prometheus). Not /proxmox/mcp: a GET there opens an SSE stream that never ends.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "--max-time", "4", "http://127.0.0.1:8812/healthz"]

ENTRYPOINT ["/usr/local/bin/proxmox-mcp"]
CMD ["serve"]
