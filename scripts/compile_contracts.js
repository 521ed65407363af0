#!/usr/bin/env node
// Compile contracts/src/**/*.sol with the pinned solc-js (standard JSON, optimizer 200 runs, evmVersion cancun) and
// write one deterministic artifact per contract to contracts/build/<Name>.json (contract names are unique).
// Imports of npm packages (e.g. "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol") are resolved
// from node_modules by an import callback; only contracts whose source is under contracts/src get artifacts.
//
//   node scripts/compile_contracts.js           write artifacts
//   node scripts/compile_contracts.js --check   recompile in memory; exit 1 if committed artifacts differ
//
// Artifacts: {abi, bytecode, compiler: {settings, version}, contractName, deployedBytecode, sourceHash}, keys
// sorted recursively, 2-space indentation, trailing newline, so a recompile of unchanged sources is byte-identical.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SRC_DIR = path.join(ROOT, 'contracts', 'src');
const BUILD_DIR = path.join(ROOT, 'contracts', 'build');
/** Scripts in this folder exporting generatedArtifacts(): Map fileName -> artifact text. */
const GENERATORS = ['gen_poseidon_contract.js'];
const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

/** All .sol files under dir, as paths relative to dir with '/' separators, sorted. */
function solidityFiles(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...solidityFiles(path.join(dir, entry.name), rel + '/'));
    else if (entry.name.endsWith('.sol')) out.push(rel);
  }
  return out.sort();
}

/** solc import callback: package imports are read from node_modules (and nowhere else). */
function findImport(importPath) {
  const modules = path.join(ROOT, 'node_modules');
  const target = path.resolve(modules, importPath);
  if (!target.startsWith(modules + path.sep) || !fs.existsSync(target)) {
    return { error: `import not found in node_modules: ${importPath}` };
  }
  return { contents: fs.readFileSync(target, 'utf8') };
}

function stableJson(value) {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

/** Compile every source and return a Map fileName -> artifact text. Throws on any compiler error. */
function buildArtifacts() {
  const solc = require(path.join(ROOT, 'node_modules', 'solc'));
  const files = solidityFiles(SRC_DIR);
  if (files.length === 0) throw new Error(`no Solidity sources in ${SRC_DIR}`);
  const sources = {};
  const hashes = {};
  for (const f of files) {
    const text = fs.readFileSync(path.join(SRC_DIR, f), 'utf8');
    sources[`src/${f}`] = { content: text };
    hashes[`src/${f}`] = crypto.createHash('sha256').update(text, 'utf8').digest('hex');
  }
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const problems = (output.errors || []).filter((e) => e.severity === 'error');
  const warnings = (output.errors || []).filter((e) => e.severity !== 'error');
  for (const w of warnings) process.stderr.write(w.formattedMessage + '\n');
  if (problems.length > 0) {
    throw new Error('solc failed:\n' + problems.map((e) => e.formattedMessage).join('\n'));
  }
  const compilerSettings = { evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer };
  const artifacts = new Map();
  for (const unit of Object.keys(output.contracts).sort()) {
    if (!(unit in sources)) continue; // imported from node_modules: no artifact of ours
    for (const name of Object.keys(output.contracts[unit]).sort()) {
      if (artifacts.has(`${name}.json`)) throw new Error(`contract name ${name} is defined twice`);
      const c = output.contracts[unit][name];
      const artifact = {
        contractName: name,
        sourceName: unit,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        compiler: { version: solc.version(), settings: compilerSettings },
        sourceHash: hashes[unit],
      };
      artifacts.set(`${name}.json`, stableJson(artifact));
    }
  }
  // Artifacts not compiled from Solidity (circomlibjs's Poseidon hashers), made by generator scripts beside this one;
  // a copy of this script without them (as in tests) simply does not produce those artifacts.
  for (const generator of GENERATORS) {
    const script = path.join(__dirname, generator);
    if (!fs.existsSync(script)) continue;
    for (const [file, text] of require(script).generatedArtifacts()) {
      if (artifacts.has(file)) throw new Error(`${file} is both compiled and generated`);
      artifacts.set(file, text);
    }
  }
  return artifacts;
}

function existingArtifacts() {
  if (!fs.existsSync(BUILD_DIR)) return [];
  return fs.readdirSync(BUILD_DIR).filter((f) => f.endsWith('.json')).sort();
}

/** Return a list of human-readable differences between fresh and committed artifacts (empty = up to date). */
function checkArtifacts() {
  const fresh = buildArtifacts();
  const diffs = [];
  for (const [file, text] of fresh) {
    const p = path.join(BUILD_DIR, file);
    if (!fs.existsSync(p)) diffs.push(`missing: contracts/build/${file}`);
    else if (fs.readFileSync(p, 'utf8') !== text) diffs.push(`stale: contracts/build/${file}`);
  }
  for (const file of existingArtifacts()) {
    if (!fresh.has(file)) diffs.push(`orphan (no source): contracts/build/${file}`);
  }
  return diffs;
}

function writeArtifacts() {
  const fresh = buildArtifacts();
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  for (const file of existingArtifacts()) {
    if (!fresh.has(file)) fs.unlinkSync(path.join(BUILD_DIR, file));
  }
  for (const [file, text] of fresh) fs.writeFileSync(path.join(BUILD_DIR, file), text);
  return [...fresh.keys()];
}

function main(argv) {
  if (argv.includes('--check')) {
    const diffs = checkArtifacts();
    if (diffs.length > 0) {
      process.stderr.write('contract artifacts are out of date (run: node scripts/compile_contracts.js)\n');
      for (const d of diffs) process.stderr.write(`  ${d}\n`);
      return 1;
    }
    process.stdout.write('contract artifacts up to date\n');
    return 0;
  }
  for (const file of writeArtifacts()) process.stdout.write(`wrote contracts/build/${file}\n`);
  return 0;
}

module.exports = { buildArtifacts, checkArtifacts, writeArtifacts, stableJson };

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  }
}
