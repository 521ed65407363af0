// The disclosure bundle (node/verify/disclosure.py, formats 1-3) parsed and its digests recomputed in the browser:
// SHA-256 (WebCrypto) of the canonical encodings of node/verify/digests.py, inside Poseidon (circomlibjs) as in
// circuits/commitment.py; the context as node/chains/binding.py (keccak256, mod r).
import { keccak256, poseidon } from "../../vendor/zkxai-crypto.js";
import { R, bigToBytes, bytesToBigInt, concat, hexToBytes, sha256, signedToBytes, utf8 } from "./util.js";

export const FORMAT = "zkxai.disclosure/3", FORMAT_V2 = "zkxai.disclosure/2", FORMAT_V1 = "zkxai.disclosure/1";
const LEVELS = ["commitment", "inference", "explanation"];
export const PUBLIC_INPUTS = ["model_hash_hi", "model_hash_lo", "input_digest", "prediction_digest", "predicted_class",
  "explanation_digest", "context"];

/** A bundle that cannot be read at all (the CLI refuses it before checking: exit 2, verdict ERROR). */
export class BundleError extends Error {}
/** The disclosed data are not a valid opening (the `disclosure` check FAILs with this message). */
export class DisclosureError extends Error {}
/** Something this page does not verify (batch, Aleo / ICP, proven-level digests): use `zkxai verify`. */
export class Unsupported extends Error {}

function ints(v, what) {
  if (!Array.isArray(v)) throw new BundleError(`${what} must be a list of integers`);
  return v.map((x) => {
    if (typeof x !== "number" || !Number.isSafeInteger(x)) throw new BundleError(`${what} must hold integers only, found ${JSON.stringify(x)}`);
    return BigInt(x);
  });
}

function decimal(v, what) {
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v !== "string" || !/^\s*[+-]?\d+\s*$/.test(v)) throw new BundleError(`${what} is not a decimal integer: ${JSON.stringify(v)}`);
  return BigInt(v.trim());
}

function hex32(v, what) {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) throw new BundleError(`${what} must be 0x followed by 64 hex digits`);
  return v;
}

function int(v, what) {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" && /^[+-]?\d+$/.test(v)) return Number(v);
  throw new BundleError(`${what} must be an integer`);
}

/** Parse a bundle object as Disclosure.from_json does (BundleError when malformed). */
export function parseBundle(d) {
  if (d === null || typeof d !== "object" || Array.isArray(d)) throw new BundleError("a disclosure must be a JSON object");
  const fmt = d.format;
  if (![FORMAT, FORMAT_V2, FORMAT_V1].includes(fmt)) throw new BundleError(`unsupported disclosure format ${JSON.stringify(fmt)} (expected "${FORMAT}")`);
  let level = "commitment";
  if (fmt === FORMAT) {
    if (!LEVELS.includes(d.level)) throw new BundleError(`level must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(d.level)}`);
    level = d.level;
    if (level !== "commitment" && d.digests !== "circuits.qnet/v1") throw new BundleError(`a ${level}-level bundle names its digest definitions`);
  }
  const chain = d.chain;
  if (fmt !== FORMAT_V1 && (!chain || typeof chain !== "object" || typeof chain.attester !== "string")) {
    throw new BundleError(`a ${fmt} bundle names its chain, registry and attester (chain.attester)`);
  }
  const need = (o, k, what) => { if (!o || typeof o !== "object" || !(k in o)) throw new BundleError(`malformed disclosure: KeyError: ${what}`); return o[k]; };
  const inp = need(d, "input", "input"), pred = need(d, "prediction", "prediction"), expl = need(d, "explanation", "explanation");
  const proof = need(d, "proof", "proof");
  if (!proof || typeof proof !== "object" || Array.isArray(proof)) throw new BundleError("proof must be a snarkjs proof object");
  if (typeof need(expl, "method", "explanation.method") !== "string") throw new BundleError("explanation.method must be a string");
  const kind = chain && chain.kind !== undefined ? chain.kind : "ethereum";
  if (!["ethereum", "aleo", "icp"].includes(kind)) throw new BundleError(`chain.kind must be one of ethereum, aleo, icp, got ${JSON.stringify(kind)}`);
  const publicInputs = need(d, "public_inputs", "public_inputs");
  if (!Array.isArray(publicInputs)) throw new BundleError("public_inputs must be a list");
  return {
    format: fmt, level, raw: d,
    attestation_id: hex32(need(d, "attestation_id", "attestation_id"), "attestation_id"),
    chain: chain ? {
      kind, chain_id: int(need(chain, "chain_id", "chain.chain_id"), "chain.chain_id"), registry: String(need(chain, "registry", "chain.registry")),
      attester: fmt !== FORMAT_V1 ? String(chain.attester) : null, tx_hash: String(need(chain, "tx_hash", "chain.tx_hash")),
      block_number: int(need(chain, "block_number", "chain.block_number"), "chain.block_number"), network: chain.network ?? null,
    } : null,
    model_hash: hex32(need(d, "model_hash", "model_hash"), "model_hash"),
    input: { shape: ints(need(inp, "shape", "input.shape"), "input.shape"), values: ints(need(inp, "values", "input.values"), "input.values"), salt: decimal(need(inp, "salt", "input.salt"), "input.salt") },
    prediction: { predicted_class: int(need(pred, "predicted_class", "prediction.predicted_class"), "prediction.predicted_class"),
      num_classes: int(need(pred, "num_classes", "prediction.num_classes"), "prediction.num_classes"),
      scores: ints(need(pred, "scores", "prediction.scores"), "prediction.scores"), salt: decimal(need(pred, "salt", "prediction.salt"), "prediction.salt") },
    explanation: { method: expl.method, shape: ints(need(expl, "shape", "explanation.shape"), "explanation.shape"),
      values: ints(need(expl, "values", "explanation.values"), "explanation.values"), salt: decimal(need(expl, "salt", "explanation.salt"), "explanation.salt") },
    public_inputs: publicInputs.map((v) => decimal(v, "public_inputs[]")),
    proof,
    assessment: d.assessment && typeof d.assessment === "object" ? d.assessment : null,
    batch: d.batch ?? null,
  };
}

/** What of this bundle the page cannot verify (null when everything is supported). */
export function unsupported(b) {
  if (b.batch !== null) return "batched predictions are verified by zkxai verify (Merkle inclusion is not in the browser yet)";
  if (b.chain && b.chain.kind !== "ethereum") return `records on ${b.chain.kind} are verified by zkxai verify`;
  if (b.level !== "commitment") return `${b.level}-level digests (circuits.qnet/v1) are recomputed by zkxai verify, not in the browser yet`;
  return null;
}

// -- digests (node/verify/digests.py, circuits/commitment.py) --------------------------------------------------
const hashToField = async (bytes) => bytesToBigInt(await sha256(bytes)) >> 8n;
const shapeBytes = (shape) => concat(bigToBytes(BigInt(shape.length), 4), ...shape.map((d) => bigToBytes(d, 4)));

async function vectorHash(values) {
  const parts = [utf8("zkxai.vec.v1"), bigToBytes(BigInt(values.length), 4)];
  values.forEach((v, i) => {
    try { parts.push(signedToBytes(v, 8)); } catch { throw new DisclosureError(`vector value ${i} = ${v} does not fit a signed 64-bit integer`); }
  });
  return hashToField(concat(...parts));
}

const inputHash = async (shape, values) => hashToField(concat(utf8("zkxai.input.v1"), shapeBytes(shape), bigToBytes(await vectorHash(values), 32)));

async function explanationHash(method, shape, values) {
  const tag = utf8(method);
  return hashToField(concat(utf8("zkxai.expl.v1"), bigToBytes(BigInt(tag.length), 2), tag, shapeBytes(shape), bigToBytes(await vectorHash(values), 32)));
}

function field(v, what) {
  if (v < 0n || v >= R) throw new DisclosureError(`disclosed values are not a valid opening: ${what} is outside the field [0, r)`);
  return v;
}

async function predictionDigest(scores, cls, salt) {
  const offset = scores.map((s) => s + (1n << 31n));
  const chunks = [];
  for (let k = 0; k < offset.length; k += 7) chunks.push(offset.slice(k, k + 7).reduce((acc, u, j) => acc + (u << BigInt(32 * j)), 0n));
  let acc = chunks[0];
  for (const chunk of chunks.slice(1)) acc = await poseidon([acc, chunk]);
  return poseidon([await poseidon([acc, BigInt(cls)]), salt]);
}

/** The six statement values recomputed from the disclosed data (Disclosure.statement); DisclosureError if invalid. */
export async function statement(b) {
  const scores = b.prediction.scores, cls = b.prediction.predicted_class;
  if (scores.length === 0) throw new DisclosureError("disclosed values are not a valid opening: scores must be a non-empty sequence of int32 values");
  scores.forEach((s, i) => {
    if (s < -(1n << 31n) || s > (1n << 31n) - 1n) throw new DisclosureError(`disclosed values are not a valid opening: score ${i} = ${s} is outside int32`);
  });
  if (cls < 0 || cls >= scores.length) throw new DisclosureError(`disclosed values are not a valid opening: predicted_class ${cls} is not in [0, ${scores.length})`);
  const inHash = field(await inputHash(b.input.shape, b.input.values), "input_hash");
  const exHash = field(await explanationHash(b.explanation.method, b.explanation.shape, b.explanation.values), "explanation_hash");
  const inSalt = field(b.input.salt, "input_salt"), prSalt = field(b.prediction.salt, "prediction_salt"), exSalt = field(b.explanation.salt, "explanation_salt");
  const max = scores.reduce((a, s) => (s > a ? s : a), scores[0]);
  if (scores[cls] !== max) throw new DisclosureError(`predicted class ${cls} is not an argmax of the disclosed scores`);
  const h = bytesToBigInt(hexToBytes(b.model_hash));
  return [h >> 128n, h & ((1n << 128n) - 1n), await poseidon([inHash, inSalt]), await predictionDigest(scores, cls, prSalt),
    BigInt(cls), await poseidon([exHash, exSalt])];
}

/** node/chains/binding.attestation_context: keccak256("zkxai.context.v1" || chain id || registry || attester) mod r. */
export function attestationContext(chainId, registry, attester) {
  const addr = (a, what) => {
    if (typeof a !== "string" || !/^0[xX][0-9a-fA-F]{40}$/.test(a)) throw new DisclosureError(`chain section: ${what} must be 0x followed by 40 hex digits, got ${JSON.stringify(a)}`);
    return hexToBytes("0x" + a.slice(2));
  };
  const packed = concat(utf8("zkxai.context.v1"), bigToBytes(BigInt(chainId), 32), addr(registry, "registry"), addr(attester, "attester"));
  return bytesToBigInt(keccak256(packed)) % R;
}

/** The bundle's public inputs recomputed from its data and chain section (Disclosure.recomputed_public_inputs). */
export async function recomputedPublicInputs(b) {
  const values = await statement(b);
  if (b.format === FORMAT_V1) return values;
  if (b.chain === null) throw new DisclosureError("the bundle names no chain, registry and attester");
  return [...values, attestationContext(b.chain.chain_id, b.chain.registry, b.chain.attester)];
}
