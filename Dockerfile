# encore in a container: build with the pinned toolchain, run on a small Debian.
#   docker build -t encore .
# The image holds the binary and the example FAQ; configuration comes from ENCORE_* variables
# or a file mounted at /etc/encore/encore.toml (see docker-compose.yml, docs/several-workers.md).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin encore

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/encore /usr/local/bin/encore
COPY faq.toml /etc/encore/faq.toml
WORKDIR /etc/encore
ENV ENCORE_FAQ_PATH=/etc/encore/faq.toml
EXPOSE 8080
ENTRYPOINT ["encore"]
CMD ["serve"]
