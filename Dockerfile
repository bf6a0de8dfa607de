# syntax=docker/dockerfile:1

# Build stage: a release build against the locked dependencies.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The locales and the prompts are compiled into the binary.
COPY locales ./locales
COPY prompts ./prompts
# Declared benchmarks must exist for the manifest to load; they are not built.
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ai-interviewer \
    && cp target/release/ai-interviewer /usr/local/bin/ai-interviewer

# Runtime stage: a slim image with a non-root user; no compiler, no sources.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin interviewer \
    && mkdir -p /app/sessions \
    && chown interviewer /app/sessions
WORKDIR /app
COPY --from=build /usr/local/bin/ai-interviewer /usr/local/bin/ai-interviewer
ENV SESSIONS_DIR=/app/sessions \
    LOG_FORMAT=json
USER interviewer
VOLUME ["/app/sessions"]
ENTRYPOINT ["/usr/bin/tini", "--", "ai-interviewer"]
CMD ["bot"]
