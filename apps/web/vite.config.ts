import { defineConfig } from "vite";

// The dashboard is served by srv from dist/ under a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'): nothing may be inlined into index.html.
export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});
