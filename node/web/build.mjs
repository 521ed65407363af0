// Builds the explorer's vendored browser assets from pinned npm packages (package.json), deterministically:
//   static/vendor/zkxai-crypto.js  esbuild bundle of src/crypto_entry.js (circomlibjs Poseidon, js-sha3 keccak)
//   static/vendor/snarkjs.min.js   snarkjs's own browser build, copied byte for byte
// `node node/web/build.mjs` writes them; `node node/web/build.mjs --check` rebuilds into memory and exits 1 when
// the committed files differ (tests/test_web_assets.py runs it, as contracts/build is checked against its sources).
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const vendor = join(here, "static", "vendor");
const check = process.argv.includes("--check");

const bundled = await build({
  entryPoints: [join(here, "src", "crypto_entry.js")],
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  absWorkingDir: root,
  alias: { assert: join(here, "src", "assert_shim.js") },
  logLevel: "error",
});
const outputs = {
  "zkxai-crypto.js": Buffer.from(bundled.outputFiles[0].contents),
  "snarkjs.min.js": readFileSync(join(root, "node_modules", "snarkjs", "build", "snarkjs.min.js")),
};
let stale = [];
for (const [name, bytes] of Object.entries(outputs)) {
  const path = join(vendor, name);
  if (check) {
    let old = null;
    try { old = readFileSync(path); } catch { old = null; }
    if (old === null || !old.equals(bytes)) stale.push(name);
  } else {
    writeFileSync(path, bytes);
  }
}
if (check && stale.length) {
  console.error(`stale vendored assets (run: node node/web/build.mjs): ${stale.join(", ")}`);
  process.exit(1);
}
console.log(check ? "vendored assets match their sources" : `wrote ${Object.keys(outputs).join(", ")}`);
