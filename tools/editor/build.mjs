// Reproducible build of the query editor: `npm ci && npm run build` in tools/editor/.
//   kgapp/web/static/vendor/sparql-editor.min.js   one minified IIFE bundle (no eval, no runtime download)
//   kgapp/web/static/vendor/LICENSES/<package>.txt  the licence of every package in that bundle
//   tests/vendor/axe-core/axe.min.js + LICENSE       axe-core for the accessibility tests (a test asset only)
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const vendor = join(repo, "kgapp", "web", "static", "vendor");
const licences = join(vendor, "LICENSES");
rmSync(licences, { recursive: true, force: true });
mkdirSync(licences, { recursive: true });

const result = await build({
  entryPoints: [join(here, "editor.js")],
  outfile: join(vendor, "sparql-editor.min.js"),
  bundle: true, minify: true, format: "iife", target: ["es2020"], legalComments: "none",
  metafile: true, logLevel: "warning", charset: "utf8",
  banner: { js: "/* kgapp SPARQL editor: CodeMirror 6 and friends (MIT), built by tools/editor; licences in LICENSES/ */" },
});

// Every package that ended up in the bundle, found from esbuild's own record of its inputs.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.add(m[1]);
}
const listing = [];
for (const name of [...packages].sort()) {
  const dir = join(here, "node_modules", name);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (!file) throw new Error(`${name} ships no licence file`);
  copyFileSync(join(dir, file), join(licences, name.replace("/", "__") + ".txt"));
  listing.push(`${name} ${meta.version} ${meta.license}`);
}
writeFileSync(join(licences, "README.txt"),
  "Packages bundled into ../sparql-editor.min.js (name, version, licence); each one's licence text is beside this file.\n" +
  "Rebuild: cd tools/editor && npm ci && npm run build\n\n" + listing.join("\n") + "\n");

const axe = join(repo, "tests", "vendor", "axe-core");
mkdirSync(axe, { recursive: true });
copyFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), join(axe, "axe.min.js"));
copyFileSync(join(here, "node_modules", "axe-core", "LICENSE"), join(axe, "LICENSE"));
const axeVersion = JSON.parse(readFileSync(join(here, "node_modules", "axe-core", "package.json"), "utf8")).version;
writeFileSync(join(axe, "VERSION"), axeVersion + "\n");
console.log(`bundled ${packages.size} packages: ${listing.join(", ")}; axe-core ${axeVersion}`);
