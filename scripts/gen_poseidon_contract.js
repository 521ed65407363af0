#!/usr/bin/env node
// Generate the Poseidon hasher contracts used by BatchAttestationRegistry from circomlibjs's
// poseidon_gencontract (EVM assembly, not Solidity) and write deterministic artifacts:
//   contracts/build/PoseidonT3.json   Poseidon with 2 inputs (Merkle nodes)
//   contracts/build/PoseidonT7.json   Poseidon with 6 inputs (batch leaves)
// Artifact keys: {abi, bytecode, contractName, generator: {function, inputs, package, version}} sorted, 2-space
// indentation, trailing newline. bytecode is creation code; the deployed code is whatever it returns.
//
//   node scripts/gen_poseidon_contract.js           write the artifacts
//   node scripts/gen_poseidon_contract.js --check   exit 1 if the committed artifacts differ
// scripts/compile_contracts.js also produces and checks these artifacts (via generatedArtifacts()).
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUILD_DIR = path.join(ROOT, 'contracts', 'build');
/** contract name -> number of Poseidon inputs */
const HASHERS = { PoseidonT3: 2, PoseidonT7: 6 };

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
    return out;
  }
  return value;
}

/** Map fileName -> artifact text for every hasher. */
function generatedArtifacts() {
  const circomlibjs = require(path.join(ROOT, 'node_modules', 'circomlibjs'));
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'circomlibjs', 'package.json'), 'utf8')).version;
  const out = new Map();
  for (const [name, inputs] of Object.entries(HASHERS)) {
    const code = circomlibjs.poseidonContract.createCode(inputs);
    const artifact = {
      contractName: name,
      abi: circomlibjs.poseidonContract.generateABI(inputs),
      bytecode: code.startsWith('0x') ? code : '0x' + code,
      generator: { package: 'circomlibjs', version, function: 'poseidonContract.createCode', inputs },
    };
    out.set(`${name}.json`, JSON.stringify(sortKeys(artifact), null, 2) + '\n');
  }
  return out;
}

function main(argv) {
  const fresh = generatedArtifacts();
  if (argv.includes('--check')) {
    const stale = [...fresh].filter(([f, t]) => {
      const p = path.join(BUILD_DIR, f);
      return !fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== t;
    });
    for (const [f] of stale) process.stderr.write(`stale or missing: contracts/build/${f}\n`);
    return stale.length === 0 ? 0 : 1;
  }
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  for (const [f, t] of fresh) {
    fs.writeFileSync(path.join(BUILD_DIR, f), t);
    process.stdout.write(`wrote contracts/build/${f}\n`);
  }
  return 0;
}

module.exports = { generatedArtifacts, HASHERS };

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  }
}
