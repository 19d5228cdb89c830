// Bundles the console into dist/: dist/assets/app.js (esbuild, ES2020, minified, with a
// source map) plus the static files in public/ (index.html, style.css) copied as they are.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist/assets", { recursive: true });
cpSync("public", "dist", { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  outfile: "dist/assets/app.js",
  logLevel: "warning",
});
console.log("built web/dist");
