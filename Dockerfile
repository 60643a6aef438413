# The broker's production image. No secrets are baked in: COOKIE_KEYS, JWKS_FILE,
# CLIENTS_FILE and the WeChat credentials come from the environment and mounted files.
# test/e2e/artifact.test.ts repeats these steps without Docker (see its notes).

# Build stage: production dependencies only, exactly as locked.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY src ./src

# Runtime stage: Node 24 runs the TypeScript sources directly (type stripping).
FROM node:24-slim
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
CMD ["node", "--experimental-strip-types", "src/main.ts"]
