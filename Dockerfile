# syntax=docker/dockerfile:1
#
# ChatConnect. One image for every role:
#   docker build -t chatconnect .
#   docker run -p 8000:8000 -v chatconnect-data:/data chatconnect   # API, embedded defaults
#   docker run ... chatconnect chatconnect worker                    # document worker
#   docker run ... chatconnect chatconnect migrate                   # migrations only
# Without DATABASE_URL / QDRANT_URL the container runs the embedded PostgreSQL and Qdrant
# Edge under /data (one process only); compose.yaml runs the full stack.

# --- build: a virtualenv with the exact pins, then the project ---------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, from exact pins: this layer is rebuilt only when the lock changes.
# --no-deps: the lock is complete, and unstructured-inference declares torch (6.8 GB) that
# the document parser never imports.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

# Then the project itself, resolving nothing again (--no-deps).
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
# Editable on purpose: adapters/postgres/migrations.py finds alembic.ini and alembic/ two
# levels above its own file, i.e. in the project directory. A plain `pip install .` would
# move the packages into site-packages, away from the migrations, and the service would
# fail at start. Installed editable, the packages stay in /app next to alembic/.
RUN pip install --no-deps --editable . \
    && python -m compileall -q /app/domain /app/application /app/adapters /app/entrypoints /app/alembic

# --- runtime: the virtualenv and the sources, no build leftovers, not root ---------------
FROM python:3.11-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data \
    DO_NOT_TRACK=1

# A fixed numeric uid, so orchestrators can check runAsNonRoot; /data is its only writable
# place (embedded PostgreSQL, which refuses to run as root, vector shards, admin token).
RUN groupadd --system --gid 10001 chatconnect \
    && useradd --system --uid 10001 --gid chatconnect --create-home \
        --home-dir /home/chatconnect --shell /usr/sbin/nologin chatconnect \
    && mkdir -p /data \
    && chown chatconnect:chatconnect /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001

EXPOSE 8000
# Liveness: no curl in slim, so python's urllib; any non-2xx or refused connection fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

STOPSIGNAL SIGTERM
CMD ["chatconnect", "serve"]
