// Builds the window's UI into `dist/`, loaded by the desktop shell from disk: asset paths stay
// relative and nothing is inlined, so the shell's strict Content Security Policy holds.
import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig(({ mode }) => ({
  base: "./",
  // Unit tests run the store with Svelte's client runtime (reactive $state/$derived), in node.
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  plugins: [svelte()],
  clearScreen: false,
  // The message catalogs live with the Rust core that embeds them too (one set for the window,
  // the tray and the notifications); the dev server may read them there.
  server: { fs: { allow: [".", "../crates/core/locales"] } },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // Never inline assets as data: URLs or scripts: the CSP allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    // The store's first test imports it cold (the Svelte runtime, both catalogs), which takes
    // seconds on a busy machine; the default 5 s made it flaky there.
    testTimeout: 15_000,
  },
}));
