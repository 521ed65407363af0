// The report of one verification, as node/verify/report.py builds it: checks PASS / FAIL / UNPINNED, the verdict
// (VALID / INVALID / UNPINNED) and the exit code `zkxai verify` would return.
export const EXIT = { OK: 0, PROOF: 1, USAGE: 2, NOT_FOUND: 3, CHAIN_ERROR: 6, UNPINNED: 11 };
const BY_CHECK = { record: 3, revocation: 8, finality: 9, vk: 7, proof: 1, model: 5, disclosure: 4, inclusion: 10,
  attester: 12, chain: 13, level: 14 };

export const PIN_HINT = "pin what you trust: --registry (or --batch-registry), --attester, --vkey, or a --trust file";
export const NOTHING_PINNED = `nothing pinned: every check rests only on what the transaction or the bundle says; ${PIN_HINT}`;
export const NOT_CHECKED_OFFLINE = "offline: record and attester not checked (no chain consulted); the proof and the disclosure are checked against the pinned --vkey";

export class Report {
  constructor(attestationId) { this.attestation_id = attestationId; this.checks = []; this.record = {}; this.notes = []; }

  add(name, ok, detail) { this.checks.push({ name, status: ok ? "pass" : "fail", ok: !!ok, detail }); return !!ok; }

  addUnpinned(name, detail) { this.checks.push({ name, status: "unpinned", ok: false, detail }); }

  get unpinned() { return this.checks.filter((c) => c.status === "unpinned").map((c) => c.name); }

  get verdict() {
    if (this.checks.length && this.checks.every((c) => c.ok)) return "VALID";
    return this.checks.some((c) => c.status === "fail") || !this.checks.length ? "INVALID" : "UNPINNED";
  }

  get exitCode() {
    const failed = this.checks.find((c) => c.status === "fail");
    if (failed) return BY_CHECK[failed.name] ?? EXIT.PROOF;
    return this.unpinned.length ? EXIT.UNPINNED : EXIT.OK;
  }

  toJSON() {
    return { attestation_id: this.attestation_id, verdict: this.verdict, exit_code: this.exitCode, checks: this.checks,
      unpinned: this.unpinned, notes: this.notes, record: this.record, ...(this.unpinned.length ? { pin: PIN_HINT } : {}) };
  }
}

/** A run that could not check anything (the CLI's `_fail`): verdict ERROR with the exit code and the reason. */
export class Refusal extends Error {
  constructor(code, message) { super(message); this.code = code; }
  toJSON() { return { verdict: "ERROR", exit_code: this.code, error: this.message }; }
}

export function whatIsProven(level, method) {
  if (level === "explanation") return `explanation: the committed model computed the prediction and the ${method} attribution (quantized fixed-point model, scores and attribution exactly as the circuit computes them)`;
  if (level === "inference") return `inference: the committed model applied to the committed input yields the committed scores, the class is their argmax (the ${method} attribution is committed, not proven)`;
  return "commitment: the attester knows openings of the committed input, scores and attribution, the class is an argmax of the scores; that the model computed them rests on the attester";
}
