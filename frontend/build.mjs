// Bundle Uppy into app/static/vendor/uppy/ (committed, so `make run` needs no npm): `npm ci && npm run build`.
// It also copies axe-core (the browser tests' accessibility checker, never served to pages) into tests/e2e/vendor/.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "app", "static", "vendor", "uppy");

const js = await build({
  entryPoints: [join(here, "src", "vendor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  outfile: join(out, "uppy.min.js"),
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
await build({
  entryPoints: [join(here, "src", "vendor.css")],
  bundle: true,
  minify: true,
  outfile: join(out, "uppy.min.css"),
  legalComments: "none",
  logLevel: "warning",
});

// One licence file for every npm package that ended up in the bundle.
const packages = new Map();
for (const input of Object.keys(js.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.set(m[1], join(here, "node_modules", m[1]));
}
packages.set("@uppy/status-bar", join(here, "node_modules", "@uppy/status-bar"));
const parts = ["Third-party software bundled in uppy.min.js and uppy.min.css (built by frontend/build.mjs).\n"];
for (const [name, dir] of [...packages].sort()) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  parts.push(`\n==== ${name}@${pkg.version} (${pkg.license}) ====\n`);
  parts.push(file && existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : `${pkg.license}\n`);
}
writeFileSync(join(out, "LICENSES.txt"), parts.join(""));
console.log(`built ${out}: ${packages.size} packages`);

const axe = join(here, "node_modules", "axe-core");
const axeOut = join(here, "..", "tests", "e2e", "vendor", "axe-core");
mkdirSync(axeOut, { recursive: true });
for (const name of ["axe.min.js", "LICENSE", "package.json"]) copyFileSync(join(axe, name), join(axeOut, name));
console.log(`copied axe-core ${JSON.parse(readFileSync(join(axe, "package.json"), "utf8")).version} to ${axeOut}`);
