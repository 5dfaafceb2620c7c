// The web shop's build: React through Vite, into web/dist, which the gateway serves beside /graphql
// (same origin, so the shop needs no CORS and its token never crosses origins).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  // `vite` (development): the shop on Vite's server, its /graphql sent to a running gateway.
  server: { proxy: { '/graphql': process.env.GATEWAY_URL ?? 'http://localhost:4000' } },
});
