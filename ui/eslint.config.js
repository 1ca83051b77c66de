// Lint for the window's UI: TypeScript and Svelte, with the rules that keep it safe
// (no {@html}, no eval) on top of the recommended sets.
import js from "@eslint/js";
import ts from "typescript-eslint";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import svelteConfig from "./svelte.config.js";

export default ts.config(
  {
    // bindings.ts is generated from the desktop shell's Rust declarations.
    ignores: ["dist/", "node_modules/", "src/bindings.ts"],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "svelte/no-at-html-tags": "error",
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        extraFileExtensions: [".svelte"],
        parser: ts.parser,
        svelteConfig,
      },
    },
  },
  {
    // The store is the window's one caller of the shell: components and helpers call its
    // methods and take only types from the bindings.
    files: ["src/**/*.ts", "src/**/*.svelte"],
    ignores: ["src/lib/app.svelte.ts", "src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)bindings$",
              importNames: ["commands", "events"],
              message: "Call the store (src/lib/app.svelte.ts), which alone talks to the shell.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["tests/**/*.mjs", "*.config.*"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
