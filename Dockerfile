# syntax=docker/dockerfile:1
# The line above pins BuildKit's Dockerfile frontend, which the npm cache mount below relies on.

FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies get their own layer so that editing code, topics or runbooks does not reinstall them.
# tsx is a runtime dependency (bin/topicops.js loads the TypeScript through it), so --omit=dev is enough.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# Least likely to change first. Files stay owned by root: the service has no reason to rewrite its
# own code, so it cannot.
COPY bin ./bin
COPY drizzle ./drizzle
COPY topics ./topics
COPY runbooks ./runbooks
COPY src ./src

USER node
EXPOSE 8080

# No curl in the slim image; node's own fetch does the job. Every command (worker too) serves /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "bin/topicops.js"]
CMD ["serve"]
