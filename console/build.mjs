// console/build.mjs: build the job console into build/console/ (what nginx serves
// at /console/): one minified ES module (app.js, uPlot bundled in), one
// stylesheet (app.css, uPlot's CSS bundled in), index.html and the icon.
// Run by `make console` (npm ci first); no network, no CDN.
import { build } from "esbuild";
import { mkdirSync, copyFileSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "..", "build", "console");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "firefox102", "safari15"],
  outdir: out,
  legalComments: "linked",
  logLevel: "warning",
});
const version = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8")).version;
writeFileSync(join(out, "index.html"),
  readFileSync(join(here, "index.html"), "utf8").replaceAll("@VERSION@", version));
copyFileSync(join(here, "favicon.svg"), join(out, "favicon.svg"));
let total = 0;
for (const f of ["index.html", "app.js", "app.css", "favicon.svg"]) total += statSync(join(out, f)).size;
console.log(`console: built ${out} (${(total / 1024).toFixed(1)} KiB)`);
