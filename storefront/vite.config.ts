/**
 * The storefront's build: a static single-page app in dist/, served by the edge gateway at / (with a
 * fallback to index.html for deep links). `vite` (npm run dev -w @folio/storefront) serves it with hot
 * reload and forwards /api to the gateway of `npm start` on :8080 (FOLIO_API_URL to change it).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The gateway's CSP allows scripts only from 'self': no inline module preload polyfill needed by modern browsers.
    modulePreload: { polyfill: false },
  },
  server: {
    port: 5173,
    proxy: { '/api': { target: process.env.FOLIO_API_URL ?? 'http://localhost:8080', changeOrigin: true } },
  },
});
