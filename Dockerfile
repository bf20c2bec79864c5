# intra-bot's image: `docker build -t intra-bot .`, then see the README, « Deploy ».
#
# The base is pinned by digest: the official python:3.11-slim-bookworm multi-platform index of
# Python 3.11.16 (docker-library/repo-info, repos/python/remote/3.11-slim-bookworm.md), so a
# rebuild gets the same base until this line is changed on purpose. It is an argument so that it
# can be moved to a newer digest, or replaced by a local image of the same Debian release where
# no registry is reachable (scripts/docker-smoke.sh does that).
ARG BASE=python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

# --- build: the locked dependencies and the bot, in a venv copied whole into the runtime stage
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/intra-bot
# The venv's own pip (the base's bundled one) refuses the lock in hash mode: a pinned, hashed
# pip first (requirements/pip.txt, as scripts/venv does), with the locked build backend
# (setuptools) that builds the bot below without build isolation: nothing unpinned is fetched.
COPY requirements/pip.txt /tmp/requirements/pip.txt
RUN /opt/intra-bot/bin/pip --version && /opt/intra-bot/bin/pip install --require-hashes -r /tmp/requirements/pip.txt
COPY requirements/runtime.txt /tmp/requirements/runtime.txt
# runtime.txt holds the postgres and matrix extras (psycopg; mautrix, python-olm with its libolm
# in the wheel, asyncpg, aiosqlite). pycryptodome's self-tests (4.5 MB) are never run here.
RUN /opt/intra-bot/bin/pip install --require-hashes -r /tmp/requirements/runtime.txt \
    && rm -rf /opt/intra-bot/lib/python3*/site-packages/Crypto/SelfTest
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /opt/intra-bot/bin/pip install --no-deps --no-build-isolation . \
    && /opt/intra-bot/bin/python -m compileall -q /opt/intra-bot/lib

# --- cleanroom: the fast test suites on the locked dev dependencies and nothing else (CI only;
# never part of the runtime image)
FROM build AS cleanroom
COPY requirements/dev.txt /tmp/requirements/dev.txt
RUN /opt/intra-bot/bin/pip install --require-hashes -r /tmp/requirements/dev.txt
COPY content ./content
COPY config.example.toml ./
COPY scripts/mattermost ./scripts/mattermost
# tests/unit/test_mutation_map.py checks the mutation floor's map against the code.
COPY scripts/mutation.py ./scripts/mutation.py
COPY tests ./tests
# Editable, as scripts/venv installs it: the bot finds its content beside its sources.
RUN /opt/intra-bot/bin/pip install --no-deps --no-build-isolation -e .
RUN useradd --uid 10002 --create-home tester && chown -R tester /src
USER tester
ENV PATH=/opt/intra-bot/bin:$PATH
CMD ["python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/unit", "tests/services", "tests/contract", "tests/cli", "tests/eval"]

# --- runtime
FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/intra-bot/bin:$PATH \
    INTRA_BOT_CONFIG=/etc/intra-bot/config.toml \
    INTRA_BOT_CONTENT__DIR=/srv/intra-bot/content \
    INTRA_BOT_STORE__URL=sqlite:////var/lib/intra-bot/intra-bot.sqlite3 \
    INTRA_BOT_HTTP__HOST=0.0.0.0 \
    INTRA_BOT_HTTP__PORT=8080
# One fixed id for the user and its group, so mounted volumes can be prepared on the host.
RUN groupadd --gid 10001 intrabot \
    && useradd --uid 10001 --gid intrabot --no-log-init --shell /usr/sbin/nologin \
        --home-dir /var/lib/intra-bot --create-home intrabot
COPY --from=build /opt/intra-bot /opt/intra-bot
# The content is baked in as a default; mount your own over /srv/intra-bot/content.
COPY content /srv/intra-bot/content
COPY config.example.toml /etc/intra-bot/config.toml
USER intrabot
WORKDIR /var/lib/intra-bot
VOLUME ["/var/lib/intra-bot"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('INTRA_BOT_HTTP__PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
CMD ["intra-bot", "run"]
