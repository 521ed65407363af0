#!/usr/bin/env node
// Compile the ICP registry canister (contracts/icp/src/registry.mo) with the pinned motoko (moc.js) and its bundled
// mo:core, and write contracts/icp/build/{registry.wasm, registry.did, registry.json}.
//
//   node scripts/build_icp.js           write the artifacts
//   node scripts/build_icp.js --check   recompile in memory; exit 1 if the committed artifacts differ
//
// registry.json: {moc, core, sources: {file: sha256}, wasm_sha256}, keys sorted, so a rebuild of unchanged sources
// is byte-identical (moc's output is deterministic; the check proves it on every run).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SRC_DIR = path.join(ROOT, 'contracts', 'icp', 'src');
const BUILD_DIR = path.join(ROOT, 'contracts', 'icp', 'build');
const MAIN = 'registry.mo';

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** A motoko instance with mo:core loaded and every source of dir written to its virtual file system. */
function loadMotoko(dir, overrides = {}) {
  const mo = require(path.join(ROOT, 'node_modules', 'motoko'));
  const core = require(path.join(ROOT, 'node_modules', 'motoko', 'packages', 'latest', 'core.json'));
  mo.loadPackage(core);
  const sources = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.mo')).sort()) {
    sources[f] = fs.readFileSync(path.join(dir, f), 'utf8');
  }
  for (const [f, text] of Object.entries({ ...sources, ...overrides })) mo.write(f, text);
  return { mo, core, sources };
}

function errorsOf(diagnostics) {
  return diagnostics.filter((d) => d.severity === 1).map((d) => `${d.source}:${d.range.start.line + 1}: ${d.message}`);
}

/** Compile and return a Map fileName -> Buffer. Throws on any compiler error. */
function buildArtifacts() {
  const { mo, core, sources } = loadMotoko(SRC_DIR);
  const errors = errorsOf(mo.check(MAIN));
  if (errors.length) throw new Error(`motoko errors:\n${errors.join('\n')}`);
  const out = mo.wasm(MAIN, 'ic');
  const wasm = Buffer.from(out.wasm);
  const hashes = {};
  for (const f of Object.keys(sources).sort()) hashes[f] = sha256(sources[f]);
  const manifest = { core: `${core.name} ${core.version}`, moc: mo.version, sources: hashes, wasm_sha256: sha256(wasm) };
  return new Map([
    ['registry.did', Buffer.from(out.candid, 'utf8')],
    ['registry.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')],
    ['registry.wasm', wasm],
  ]);
}

function checkArtifacts() {
  const diffs = [];
  for (const [name, data] of buildArtifacts()) {
    const file = path.join(BUILD_DIR, name);
    if (!fs.existsSync(file)) diffs.push(`${name}: missing`);
    else if (!fs.readFileSync(file).equals(data)) diffs.push(`${name}: differs from a fresh build`);
  }
  return diffs;
}

module.exports = { buildArtifacts, checkArtifacts, loadMotoko, errorsOf, SRC_DIR };

if (require.main === module) {
  try {
    if (process.argv.includes('--check')) {
      const diffs = checkArtifacts();
      if (diffs.length) {
        process.stderr.write('ICP canister artifacts are out of date (run: node scripts/build_icp.js)\n');
        for (const d of diffs) process.stderr.write(`  ${d}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write('ICP canister artifacts up to date\n');
      }
    } else {
      fs.mkdirSync(BUILD_DIR, { recursive: true });
      for (const [name, data] of buildArtifacts()) fs.writeFileSync(path.join(BUILD_DIR, name), data);
      process.stdout.write(`wrote ${BUILD_DIR}\n`);
    }
  } catch (err) {
    process.stderr.write(`${String(err.message).slice(0, 4000)}\n`);
    process.exitCode = 2;
  }
}
