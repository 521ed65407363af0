// Groth16 keys and proofs between the verifier contract's calldata words, snarkjs JSON and zkxai's vk_sha256
// (node/verify/trust.py: SHA-256 of the calldata words as compact JSON).
import { R, bytesToHex, sha256, utf8 } from "./util.js";
import { BundleError } from "./bundle.js";

const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

function coord(v, what) {
  let x;
  try { x = BigInt(v); } catch { throw new BundleError(`${what} is not an integer`); }
  if (x < 0n || x >= P) throw new BundleError(`${what} is outside the base field`);
  return x;
}

const g1 = (p, what) => {
  if (!Array.isArray(p) || p.length < 2) throw new BundleError(`${what} must be a G1 point [x, y, 1]`);
  return [coord(p[0], what), coord(p[1], what)];
};
const g2 = (p, what) => {
  if (!Array.isArray(p) || p.length < 2 || !Array.isArray(p[0]) || !Array.isArray(p[1])) throw new BundleError(`${what} must be a G2 point`);
  return [[coord(p[0][0], what), coord(p[0][1], what)], [coord(p[1][0], what), coord(p[1][1], what)]];
};

/** A pinned snarkjs verification_key.json -> {alpha, beta, gamma, delta, ic} (G2 as [[x_re, x_im], [y_re, y_im]]). */
export function vkFromSnarkjs(d) {
  if (!d || typeof d !== "object" || d.protocol !== "groth16" || !["bn128", "bn254"].includes(d.curve)) {
    throw new BundleError("not a snarkjs Groth16 verification key on bn128");
  }
  if (!Array.isArray(d.IC) || d.IC.length === 0) throw new BundleError("IC must be a non-empty list");
  if (d.nPublic !== d.IC.length - 1) throw new BundleError(`nPublic ${d.nPublic} does not match ${d.IC.length} IC points`);
  return { alpha: g1(d.vk_alpha_1, "vk_alpha_1"), beta: g2(d.vk_beta_2, "vk_beta_2"), gamma: g2(d.vk_gamma_2, "vk_gamma_2"),
    delta: g2(d.vk_delta_2, "vk_delta_2"), ic: d.IC.map((p, i) => g1(p, `IC[${i}]`)) };
}

/** The verifier contract's words (EIP-197: G2 as [[x_im, x_re], [y_im, y_re]]) -> the same form. */
export function vkFromCalldata([alpha, beta, gamma, delta, ic]) {
  const swap = (p) => [[p[0][1], p[0][0]], [p[1][1], p[1][0]]];
  return { alpha: [alpha[0], alpha[1]], beta: swap(beta), gamma: swap(gamma), delta: swap(delta), ic: ic.map((p) => [p[0], p[1]]) };
}

export const vkEqual = (a, b) => JSON.stringify(vkWords(a)) === JSON.stringify(vkWords(b));

function vkWords(vk) {
  const swap = (p) => [[p[0][1], p[0][0]], [p[1][1], p[1][0]]].map((q) => q.map(String));
  return [vk.alpha.map(String), swap(vk.beta), swap(vk.gamma), swap(vk.delta), vk.ic.map((p) => p.map(String))];
}

/** vk_sha256: "0x" + SHA-256 of the calldata words as compact JSON (integers unquoted, as Python writes them). */
export async function vkSha256(vk) {
  const text = JSON.stringify(vkWords(vk)).replace(/"/g, "");
  return bytesToHex(await sha256(utf8(text)));
}

/** snarkjs verification_key.json of a key (what snarkjs.groth16.verify takes). */
export function vkToSnarkjs(vk) {
  const s = (x) => x.toString();
  const G2 = (p) => [[s(p[0][0]), s(p[0][1])], [s(p[1][0]), s(p[1][1])], ["1", "0"]];
  return { protocol: "groth16", curve: "bn128", nPublic: vk.ic.length - 1, vk_alpha_1: [s(vk.alpha[0]), s(vk.alpha[1]), "1"],
    vk_beta_2: G2(vk.beta), vk_gamma_2: G2(vk.gamma), vk_delta_2: G2(vk.delta), IC: vk.ic.map((p) => [s(p[0]), s(p[1]), "1"]) };
}

/** snarkjs proof JSON from the eight Attested words a0 a1 b00 b01 b10 b11 c0 c1 (EIP-197 order). */
export function proofFromWords(w) {
  const s = (x) => x.toString();
  return { protocol: "groth16", curve: "bn128", pi_a: [s(w[0]), s(w[1]), "1"], pi_b: [[s(w[3]), s(w[2])], [s(w[5]), s(w[4])], ["1", "0"]],
    pi_c: [s(w[6]), s(w[7]), "1"] };
}

/** Groth16 with snarkjs's browser build (window.snarkjs); false, or an Error, when it does not verify. */
export async function groth16(vk, publicInputs, proof) {
  if (!globalThis.snarkjs) throw new Error("snarkjs is not loaded");
  if (publicInputs.some((v) => v < 0n || v >= R)) return new Error("public inputs must be field elements");
  if (publicInputs.length !== vk.ic.length - 1) return new Error(`the key takes ${vk.ic.length - 1} public inputs, got ${publicInputs.length}`);
  try {
    return await globalThis.snarkjs.groth16.verify(vkToSnarkjs(vk), publicInputs.map(String), proof, { info() {}, error() {}, debug() {} });
  } catch (exc) {
    return new Error(String(exc && exc.message ? exc.message : exc));
  }
}
