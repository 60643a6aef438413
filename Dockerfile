# The broker's production image. No secrets are baked in: COOKIE_KEYS, JWKS_FILE,
# CLIENTS_FILE and the WeChat credentials come from the environment and mounted files.
# test/e2e/artifact.test.ts repeats these steps without Docker (see its notes).

# Where Docker Hub or the npm registry is slow or out of reach (mainland China), a copy of
# the base image and an npm mirror can be given at build time (README.zh-CN, 镜像源):
#   docker build --build-arg NODE_IMAGE=<registry>/node:24-slim --build-arg NPM_REGISTRY=https://registry.npmmirror.com .
ARG NODE_IMAGE=node:24-slim

# Build stage: production dependencies only, exactly as locked.
FROM ${NODE_IMAGE} AS build
ARG NPM_REGISTRY
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund ${NPM_REGISTRY:+--registry=$NPM_REGISTRY}
COPY src ./src

# Runtime stage: Node 24 runs the TypeScript sources directly (type stripping).
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini as PID 1 passes SIGTERM on to Node (which stops cleanly) and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
# As `npm start` (package.json): V8's young generation held to 16 MiB a semi-space, its old space to
# twice what was in use before its next full collection (README, Speed).
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "--experimental-strip-types", "src/main.ts"]
