// The browser's hashes, bundled by node/web/build.mjs from pinned npm packages into static/vendor/zkxai-crypto.js:
// Poseidon over BN254 from circomlibjs (the reference implementation, equal to circuits/poseidon.py) and
// Keccak-256 from js-sha3 (Ethereum's keccak: selectors, event topics, the attestation context and id).
// SHA-256 is the browser's own WebCrypto (crypto.subtle), not bundled.
import buildPoseidonReference from "../../../node_modules/circomlibjs/src/poseidon_reference.js";
import jsSha3 from "js-sha3";

let poseidonPromise = null;

/** Poseidon hash of field elements (BigInt[]) -> BigInt, as circomlib's Poseidon(n). */
export async function poseidon(inputs) {
  if (poseidonPromise === null) poseidonPromise = buildPoseidonReference();
  const p = await poseidonPromise;
  return p.F.toObject(p(inputs));
}

/** Keccak-256 of bytes (Uint8Array) -> Uint8Array(32). */
export function keccak256(bytes) {
  return new Uint8Array(jsSha3.keccak256.arrayBuffer(bytes));
}
