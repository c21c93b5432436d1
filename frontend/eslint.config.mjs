// ESLint for the portal's own JavaScript (the vendored Uppy bundle is not ours to lint).
// Paths are relative to the repository root: run it as `npm run lint` from frontend/, which lints from there.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["app/static/vendor/**", "frontend/node_modules/**"] },
  js.configs.recommended,
  {
    rules: {
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "smart"],
    },
  },
  {
    // Classic scripts loaded with <script defer>: each file keeps its code inside a strict-mode IIFE.
    files: ["app/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "script", globals: { ...globals.browser } },
  },
  {
    // The bundle's entry point (esbuild), browser code.
    files: ["frontend/src/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "module", globals: { ...globals.browser } },
  },
  {
    // Build tooling run by Node.js (top-level await needs ES2022).
    files: ["frontend/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
  },
];
