import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard SPA: preact + uPlot + xterm.js, bundled into web/dist and served by the
// daemon at `/`. Everything is bundled — the page makes no request beyond its own origin.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
});
