import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * The web app (/app) and the API explorer (GET /graphql) in one build, served by Ackline from
 * web/dist: every script, style and font is a file of its own under /app/assets (no inline
 * script, nothing from a CDN), which is what the pages' Content-Security-Policy allows.
 */
export default defineConfig({
  root: here("."),
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    // Inlined fonts or images would need `data:` in the policy; files need nothing more than 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { app: here("index.html"), graphiql: here("graphiql.html") },
      // GraphiQL's React compiler runtime opens with "use no memo", which bundling drops harmlessly.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
