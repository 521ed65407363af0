#!/usr/bin/env node
// Fail (exit 1) if contracts/build/*.json differ from a fresh compile of contracts/src/*.sol.
// Same as `node scripts/compile_contracts.js --check`; kept as its own entry point for CI.
'use strict';

const { checkArtifacts } = require('./compile_contracts.js');

try {
  const diffs = checkArtifacts();
  if (diffs.length > 0) {
    process.stderr.write('contract artifacts are out of date (run: node scripts/compile_contracts.js)\n');
    for (const d of diffs) process.stderr.write(`  ${d}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write('contract artifacts up to date\n');
  }
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 2;
}
