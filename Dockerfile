# syntax=docker/dockerfile:1
# One image for the whole platform. The command chooses what runs:
#   postloan-stack run --no-demo                     the embedded platform (the default; compose)
#   uvicorn --factory <module>:create_app --host=0.0.0.0 --port=8000
#                                                    one service or the gateway (Kubernetes;
#                                                    deploy/k8s/base/apps/<name>.yaml)
# Build from the repository root:   docker build -t postloan:local .
# Lint (tests/deploy/test_dockerfile.py): hadolint Dockerfile
# uv from its release image, pinned: the build stage only; the runtime image has no uv.
FROM ghcr.io/astral-sh/uv:0.13.10 AS uv

# The build and the runtime stage start from the same Python: the venv's interpreter links hold.
FROM python:3.11-slim-trixie AS build
COPY --from=uv /uv /usr/local/bin/uv
# Compiled bytecode at build time: at run time the root file system is read-only. Copied, not
# hard-linked, files: the venv leaves this stage. The base image's Python, never a download.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/postloan/.venv
WORKDIR /src
# The lock and the members' pyproject files first: the dependencies are one cached layer that
# a change of our code does not rebuild (the workspace's own packages come in the next step).
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY gateway/pyproject.toml gateway/
COPY services/monitoring/pyproject.toml services/monitoring/
COPY services/scoring/pyproject.toml services/scoring/
COPY services/collections/pyproject.toml services/collections/
COPY services/notify/pyproject.toml services/notify/
COPY tools/devstack/pyproject.toml tools/devstack/
COPY tools/simulator/pyproject.toml tools/simulator/
COPY tools/testing/pyproject.toml tools/testing/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace
# The root project's dependencies (every service, the gateway, devstack, the simulator; not the
# test tools), installed as wheels: the image needs no source tree.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim-trixie AS runtime
# UID/GID 10001, as the manifests' securityContext says; PostgreSQL (embedded) refuses root.
RUN groupadd --system --gid 10001 postloan \
 && useradd --system --uid 10001 --gid postloan --no-create-home \
        --home-dir /var/lib/postloan --shell /usr/sbin/nologin postloan \
 && install -d -o postloan -g postloan -m 0700 /var/lib/postloan
COPY --from=build /opt/postloan/.venv /opt/postloan/.venv
# Nothing is written under / at run time: no bytecode, HOME and caches in /tmp (an emptyDir in
# Kubernetes), state in POSTLOAN_STATE_DIR (the compose volume; /tmp/postloan in Kubernetes).
ENV PATH=/opt/postloan/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    NO_COLOR=1 \
    POSTLOAN_STATE_DIR=/var/lib/postloan \
    POSTLOAN_GATEWAY_HOST=0.0.0.0 \
    POSTLOAN_HEALTH_URL=http://127.0.0.1:8000/readyz
WORKDIR /var/lib/postloan
USER 10001:10001
VOLUME ["/var/lib/postloan"]
EXPOSE 8000
# Docker's own check (Kubernetes uses the manifests' probes instead). Set POSTLOAN_HEALTH_URL
# when a component listens elsewhere than the gateway's default port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['POSTLOAN_HEALTH_URL'], timeout=3)"]
# SIGTERM (docker stop, a pod's deletion) is the stack's Ctrl-C and uvicorn's graceful stop.
STOPSIGNAL SIGTERM
CMD ["postloan-stack", "run", "--no-demo"]
