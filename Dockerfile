# GNC exchange node: a thin wrapper over the same commands the tests exercise (npm ci, npm run build, gnc start).
# Build:  docker build -t gnc-node .
# Init:   docker run --rm -v gnc-data:/data gnc-node init --dir /data --country KZ --name "State Revenue Committee" \
#           --listen /ip4/0.0.0.0/tcp/4001 --announce /dns4/gnc.customs.example/tcp/4001 --api-host 0.0.0.0 --api-port 8080
# Run:    docker run -d -v gnc-data:/data -p 4001:4001 -p 127.0.0.1:8080:8080 gnc-node
# Other commands run in the image on the same volume, also while the node runs, e.g.
#         docker run --rm -v gnc-data:/data gnc-node token create --dir /data --name single-window --scopes submit,read
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY protocol ./protocol
COPY certs ./certs
COPY node ./node
COPY examples ./examples
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN useradd --system --uid 10001 --home /data gnc && mkdir -p /data && chown gnc /data && chmod 700 /data
USER gnc
VOLUME ["/data"]
EXPOSE 4001 8080
ENTRYPOINT ["node", "dist/node/cli/bin.js"]
CMD ["start", "--dir", "/data"]
