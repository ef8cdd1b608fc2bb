// Bundles entry.js (PowerSync), markdown-entry.js (marked + DOMPurify) and zip-entry.js
// (fflate) into ES modules,
// plus the SDK's workers and wasm files.
// Deterministic: content-hashed names, no source maps, no timestamps, a fixed target.
import { defineConfig } from 'vite';

const outDir = process.env.VENDOR_OUT_DIR;
if (!outDir) throw new Error('VENDOR_OUT_DIR is not set (run build.sh)');

// Only the entries keep stable names (assets/app.js, markdown.js and export.js import them;
// served with revalidation).
// Everything else is content-hashed, so it can be cached as immutable.
const output = {
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
  assetFileNames: '[name]-[hash][extname]',
};
const workerOutput = { ...output, entryFileNames: '[name]-[hash].js' };

// The SQLCipher builds of wa-sqlite (mc-*) are only used for encrypted databases, which
// notebox does not offer; stubbing them keeps 3.8 MB of wasm out of the repository.
const noEncryption = {
  name: 'notebox-no-encryption',
  enforce: 'pre',
  resolveId(id) {
    return /@journeyapps\/wa-sqlite\/dist\/mc-wa-sqlite/.test(id) ? '\0no-encryption' : null;
  },
  load(id) {
    if (id !== '\0no-encryption') return null;
    return "export default function () { throw new Error('notebox bundles no encrypted SQLite'); }";
  },
};

export default defineConfig({
  base: './',
  plugins: [noEncryption],
  logLevel: 'warn',
  publicDir: false,
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    minify: 'esbuild',
    reportCompressedSize: false,
    // Never inline wasm or workers as data: URLs; the CSP allows neither.
    assetsInlineLimit: 0,
    modulePreload: false,
    rollupOptions: {
      input: { powersync: 'entry.js', markdown: 'markdown-entry.js', zip: 'zip-entry.js' },
      // Keep the entry's exports: this is a library for assets/app.js, not an app.
      preserveEntrySignatures: 'strict',
      output,
    },
  },
  worker: {
    format: 'es',
    plugins: () => [noEncryption],
    rollupOptions: { output: workerOutput },
  },
});
