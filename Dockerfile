# syntax=docker/dockerfile:1
# The grokstream command and services (ingest, detect, run, query, ...) in one image, run from the
# TypeScript sources through tsx as from a checkout. deploy/compose/compose.yaml builds it for its
# ingest and detect services:
#   docker build -t grokstream:local .
#   docker run --rm grokstream:local --help
FROM node:20-slim

WORKDIR /app

# The pnpm of package.json's packageManager.
RUN npm install -g pnpm@10.34.9 && npm cache clean --force

# Everything .dockerignore lets through (no node_modules, no .git, no local state), then the
# locked dependencies. pnpm's store lives in a build cache, not in the image.
COPY . .
RUN --mount=type=cache,id=grokstream-pnpm-store,target=/pnpm-store \
    pnpm install --frozen-lockfile --prod=false --store-dir /pnpm-store \
 && mkdir -p .grokstream && chown node:node .grokstream

USER node
ENTRYPOINT ["node", "services/cli/bin/grokstream.js"]
CMD ["--help"]
