import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console (and, with the driver app, a second entry) built into web/dist:
// every asset under /assets/ with a content hash in its name, no inline script
// or style anywhere (the app plane's CSP allows neither), no source maps served.
// `npm run dev` serves the same sources with hot reload and sends the API,
// tracking and receipt paths to a running server (RAMPART_DEV_API, default the
// app plane's default address).

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env['RAMPART_DEV_API'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  appType: 'mpa',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: `${root}dist`,
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything as a file: a data: URL for a small asset would be inline content.
    assetsInlineLimit: 0,
    sourcemap: false,
    // The password-strength dictionaries (about 1.6 MB) load only on the pages that set a password; the entry stays small (the budget test checks it).
    chunkSizeWarningLimit: 1600,
    modulePreload: { polyfill: false },
    rolldownOptions: { input: { console: `${root}console/index.html` } },
  },
  server: {
    proxy: Object.fromEntries(['/api', '/t/', '/r/', '/.well-known'].map((path) => [path, { target: api, changeOrigin: false }])),
  },
});
