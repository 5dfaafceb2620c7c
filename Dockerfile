# One image for all five services; docker-compose.yml picks the entry point of each.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run generate && npm run build:web
ENV NODE_ENV=production
USER node
CMD ["node", "--import", "tsx", "gateway/index.ts"]
