# syntax=docker/dockerfile:1

# Build stages. cargo-chef turns the manifest and the lock file into a recipe, so the layer
# that compiles the dependencies is rebuilt only when they change; every build is --locked.
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin ai-interviewer
COPY . .
RUN cargo build --release --locked --bin ai-interviewer

# Runtime stage: a slim Debian with ffmpeg (voice notes) and CA certificates, a non-root
# user, no compiler and no sources. Prompts and locales are inside the binary.
FROM debian:bookworm-slim
# Debian's security updates replace exact versions; the release is pinned by the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates ffmpeg tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /app --shell /usr/sbin/nologin interviewer \
    && mkdir -p /app /data \
    && chown interviewer:interviewer /data
WORKDIR /app
COPY --from=build /src/target/release/ai-interviewer /usr/local/bin/ai-interviewer
# Sessions, reports and metrics.json on a volume; /metrics and /healthz on 9090, which the
# healthcheck asks (publish the port only on 127.0.0.1).
ENV SESSIONS_DIR=/data \
    METRICS_ADDR=0.0.0.0:9090 \
    LOG_FORMAT=json
USER 10001:10001
VOLUME ["/data"]
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["ai-interviewer", "healthcheck"]
# tini reaps the ffmpeg children and passes SIGTERM on, so shutdown is graceful.
ENTRYPOINT ["/usr/bin/tini", "--", "ai-interviewer"]
CMD ["bot"]
