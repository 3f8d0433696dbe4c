# One image for every service and the CLI. Pick the service with the SERVICE build arg
# (docker build --build-arg SERVICE=reconciler-service .) or at run time with the SERVICE
# environment variable; `node services/<name>/dist/main.js` as the command works too, and
# `node apps/cli/dist/main.js …` runs the CLI (docker-compose's `cli` service).
# Node 22: what the dependencies declare (@nestjs/common 12's file-type, @nats-io/nuid 3,
# content-type 3), and what package.json's engines says; docker-image.unit.spec.ts checks the three agree.
ARG NODE_IMAGE=node:22-bookworm-slim

# Only the package manifests, so the dependency layer below is rebuilt when a manifest or the
# lockfile changes, not on every source edit; new workspaces are picked up without editing this file.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -type d -empty -delete

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /app ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .nx

FROM ${NODE_IMAGE} AS runtime
# Every service spawns git (clones, pushes, the executor's diffs), and HTTPS to a code host needs
# the CA bundle; the slim image has neither.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and read-only to the services: only their working directories are writable.
COPY --from=build /app ./
# The unprivileged user of the node images (uid 1000). The executor talks to Docker through the
# host's socket: docker-compose.yml adds the socket's group (DOCKER_GID) instead of running it as root.
USER node
ARG SERVICE=spec-service
# Inside a container the services must listen beyond loopback.
ENV SERVICE=${SERVICE} HOST=0.0.0.0
EXPOSE 3101 3102 3103 3104 3105
CMD ["sh", "-c", "exec node \"services/${SERVICE}/dist/main.js\""]
