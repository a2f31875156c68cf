import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// The Tauri shell loads http://127.0.0.1:1420 in development (tauri.conf.json `devUrl`)
// and embeds `ui/dist` in release builds (`frontendDist`).
// The app's CSP (tauri.conf.json). `npm run preview` serves the production build under it, so a
// violation (inline style attribute, inline script, remote asset) shows up in a plain browser too.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  'connect-src ipc: http://ipc.localhost',
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    host: '127.0.0.1',
    port: 1420,
    strictPort: true,
  },
  preview: {
    host: '127.0.0.1',
    port: 1421,
    strictPort: true,
    headers: { 'Content-Security-Policy': CSP },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // WebKitGTK 2.4x / Safari 16+ / Chromium (WebView2) all handle ES2022.
    target: 'es2022',
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    // Whole dialog journeys take ~3 s on an idle 2-core machine; the default 5 s fails them under load.
    testTimeout: 20_000,
  },
});
