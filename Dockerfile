# CCO daemon for a team: PostgreSQL (DATABASE_URL) + Redis (REDIS_URL), several replicas behind a
# load balancer. Build: docker build -t cco . ; run: see docker-compose.yml and docs/deploy.md.

# --- build: native addons (better-sqlite3, node-pty) and the bundles ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY . .
# npm ci runs the build (prepare); then drop the dev dependencies from the image.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# --- runtime: no compiler, a non-root user, data in a volume ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CCO_HOME=/data \
    CCO_CONFIG_DIR=/data/config \
    CCO_TMPDIR=/data/tmp \
    CCO_HOST=0.0.0.0 \
    CCO_PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/web/dist ./web/dist
COPY --from=build --chown=node:node /app/agents ./agents
COPY --from=build --chown=node:node /app/config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# /health needs no credentials; it answers 503 when a part (database, Redis) is down.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/cco/main.js", "run", "--log-stdout"]
