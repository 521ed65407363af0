#!/usr/bin/env node
// Run a Motoko test program against the registry's sources in the motoko interpreter (moc.js `run`), with
// src/certified_data.mo replaced by test/certified_data.mo (the interpreter has no certified data).
//
//   node contracts/icp/test/run_interpreter.js Test.mo < program.mo
//
// Prints one JSON object {stdout, stderr, ok} and exits 0 when the program ran without error.
'use strict';

const fs = require('fs');
const path = require('path');
const { loadMotoko, errorsOf, SRC_DIR } = require('../../../scripts/build_icp.js');

const name = process.argv[2] || 'Test.mo';
const program = fs.readFileSync(0, 'utf8');
const shim = fs.readFileSync(path.join(__dirname, 'certified_data.mo'), 'utf8');
const { mo } = loadMotoko(SRC_DIR, { 'certified_data.mo': shim, [name]: program });
const errors = errorsOf(mo.check(name));
if (errors.length) {
  process.stdout.write(JSON.stringify({ stdout: '', stderr: errors.join('\n'), ok: false }) + '\n');
  process.exit(1);
}
const result = mo.run(name);
const ok = result.result.error === null;
process.stdout.write(JSON.stringify({ stdout: result.stdout, stderr: result.stderr, ok }) + '\n');
process.exit(ok ? 0 : 1);
