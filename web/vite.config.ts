// The web shop's build: React through Vite, into web/dist, which the gateway serves beside /graphql
// (same origin, so the shop needs no CORS and its token never crosses origins).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  // One chunk of about 600 kB (175 kB gzipped: React DOM, Apollo Client, graphql): a shop of a few
  // pages gains nothing from splitting it, so the warning is raised above it.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  // `vite` (development): the shop on Vite's server, its /graphql sent to a running gateway.
  server: { proxy: { '/graphql': process.env.GATEWAY_URL ?? 'http://localhost:4000' } },
});
