# intra-bot: `docker build -t intra-bot .` then see README « Deploy ».
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INTRA_BOT_CONFIG=/etc/intra-bot/config.toml \
    INTRA_BOT_CONTENT__DIR=/srv/intra-bot/content \
    INTRA_BOT_STORE__URL=sqlite:////var/lib/intra-bot/intra-bot.sqlite3 \
    INTRA_BOT_HTTP__HOST=0.0.0.0 \
    INTRA_BOT_HTTP__PORT=8080
RUN useradd --system --uid 10001 --home-dir /var/lib/intra-bot --create-home intrabot \
    && mkdir -p /etc/intra-bot /srv/intra-bot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
# The content is baked in as a default; mount your own over /srv/intra-bot/content.
COPY content /srv/intra-bot/content
COPY config.example.toml /etc/intra-bot/config.toml
USER intrabot
VOLUME ["/var/lib/intra-bot"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, sys, urllib.request; port = os.environ.get('INTRA_BOT_HTTP__PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"
STOPSIGNAL SIGTERM
CMD ["intra-bot", "run"]
