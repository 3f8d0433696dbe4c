# One image for all four services. Pick the service with the SERVICE build arg
# (docker build --build-arg SERVICE=reconciler-service .) or at run time with the SERVICE
# environment variable; `node services/<name>/dist/main.js` as the command works too.
ARG NODE_IMAGE=node:20-bookworm-slim

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
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=node:node /app ./
USER node
ARG SERVICE=spec-service
# Inside a container the services must listen beyond loopback.
ENV SERVICE=${SERVICE} HOST=0.0.0.0
EXPOSE 3101 3102 3103 3104
CMD ["sh", "-c", "exec node \"services/${SERVICE}/dist/main.js\""]
