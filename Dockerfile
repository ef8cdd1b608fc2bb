# notebox: one static-ish binary with the web UI embedded (release builds embed assets/).
# Build: docker build -t notebox .     Run: see compose.yaml.

FROM rust:1.95-bookworm AS build
# The PowerSync SDK (notebox check --e2e) generates its SQLite bindings with bindgen.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in a layer of their own: built against empty stand-ins for our code, so
# a change to src/, assets/ or migrations/ rebuilds only notebox, not every crate. This layer
# is rebuilt only when Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    # one stand-in per [[bench]] of Cargo.toml: cargo checks that every declared target exists
    && for bench in $(awk '/^\[\[bench\]\]/ { b = 1; next } b && /^name/ { gsub(/"/, "", $3); print $3; b = 0 }' Cargo.toml); do \
           echo 'fn main() {}' > "benches/$bench.rs"; done \
    && cargo build --release --locked --bin notebox \
    && rm -rf src benches target/release/notebox* target/release/deps/notebox-* \
       target/release/deps/libnotebox-* target/release/.fingerprint/notebox-*
COPY build.rs ./
COPY src src
COPY benches benches
COPY migrations migrations
COPY assets assets
COPY config config
RUN cargo build --release --locked --bin notebox

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin notebox \
    # Where the one-shot `powersync-config` service renders PowerSync's config.
    && mkdir /powersync-config && chown notebox /powersync-config
COPY --from=build /src/target/release/notebox /usr/local/bin/notebox
COPY config/notebox.toml /etc/notebox/notebox.toml
USER notebox
ENV NOTEBOX_CONFIG=/etc/notebox/notebox.toml
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["notebox", "healthcheck"]
ENTRYPOINT ["notebox"]
CMD ["serve"]
