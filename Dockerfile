# Build: the Rust toolchain image; run: a slim Debian as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/uchbot

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home uchbot
COPY --from=build /src/target/release/uchbot /usr/local/bin/uchbot
COPY config.example.toml /etc/uchbot/config.toml
COPY dialogues /usr/share/uchbot/dialogues
USER uchbot
WORKDIR /data
# The SQLite file and the learners' documents live here.
VOLUME ["/data"]
ENV UCHBOT_DATABASE__URL=sqlite:///data/uchbot.db \
    UCHBOT_STORAGE__DOCUMENTS_DIR=/data/documents \
    UCHBOT_HTTP__BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["uchbot", "--config", "/etc/uchbot/config.toml"]
CMD ["serve"]
