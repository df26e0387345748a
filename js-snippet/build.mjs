// Bundles src/ into the one file Flask serves at /c.js. `--check` fails when the committed file differs from a
// fresh build, so what is served is always what the source says.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const OUT = here("../consent/web/static/c.js");

const css = await esbuild.transform(readFileSync(here("src/ui/styles.css"), "utf8"), {
  loader: "css",
  minify: true,
});
const result = await esbuild.build({
  entryPoints: [here("src/index.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2019",
  legalComments: "none",
  charset: "utf8",
  define: { __CSS__: JSON.stringify(css.code.trim()) },
  write: false,
});
const code = "/* Consent snippet (Apache-2.0); source: js-snippet/src */\n" + result.outputFiles[0].text;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(OUT, "utf8");
  } catch {}
  if (committed !== code) {
    console.error("consent/web/static/c.js is not the build of js-snippet/src: run `npm run build` and commit it");
    process.exit(1);
  }
  console.log("consent/web/static/c.js matches a fresh build");
} else {
  writeFileSync(OUT, code);
  console.log(`wrote consent/web/static/c.js (${code.length} bytes)`);
}
