// Reads one attestation straight from the Ethereum JSON-RPC the visitor names, as zkxai's LightReader does
// (node/chains/ethereum/light_reader.py): record, Attested event, model revocation, verifier and its key, each word
// checked; the id recomputed from record and event must be the one asked for.
import { keccak256 } from "../../vendor/zkxai-crypto.js";
import { bigToBytes, bytesToBigInt, bytesToHex, concat, hexToBytes, hexEq, utf8 } from "./util.js";

const WORD = 32;
const selector = (sig) => bytesToHex(keccak256(utf8(sig)).slice(0, 4));
const SEL = {
  getAttestation: selector("getAttestation(bytes32)"),
  modelRevocation: selector("modelRevocation(bytes32)"),
  verifier: selector("verifier()"),
  verifyingKey: selector("verifyingKey()"),
  unknown: selector("UnknownAttestation(bytes32)"),
};
const ATTESTED_TOPIC = bytesToHex(keccak256(utf8(
  "Attested(bytes32,bytes32,address,uint256,uint256,uint256,uint256,uint256[8])")));

/** The chain could not be read (the CLI's exit 6: a verdict of ERROR, not INVALID). */
export class ChainError extends Error {}
/** The registry holds no record for the id (a FAIL of the `record` check). */
export class NotFound extends Error {}

/** EIP-55 checksummed form of a 20-byte address. */
export function checksumAddress(bytes) {
  const hex = bytesToHex(bytes).slice(2);
  const digest = bytesToHex(keccak256(utf8(hex))).slice(2);
  return "0x" + [...hex].map((c, i) => (parseInt(digest[i], 16) >= 8 ? c.toUpperCase() : c)).join("");
}

export function parseAddress(text, what = "address") {
  if (typeof text !== "string" || !/^0[xX][0-9a-fA-F]{40}$/.test(text)) throw new TypeError(`${what} must be 0x followed by 40 hex digits`);
  return checksumAddress(hexToBytes("0x" + text.slice(2)));
}

function words(hex, count, what) {
  const data = hexToBytes(hex, what);
  if (data.length < count * WORD || data.length % WORD) throw new ChainError(`${what}: ${data.length} bytes of return data, expected ${count} words`);
  const out = [];
  for (let i = 0; i < data.length; i += WORD) out.push(bytesToBigInt(data.slice(i, i + WORD)));
  return out;
}

function uint(w, bits, what) {
  if (w >> BigInt(bits)) throw new ChainError(`${what} does not fit uint${bits}`);
  return w;
}

const address = (w, what) => checksumAddress(bigToBytes(uint(w, 160, what), 20));

export class JsonRpc {
  constructor(url) { this.url = url; this.id = 0; }

  async call(method, params) {
    let response;
    try {
      response = await fetch(this.url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }) });
    } catch (exc) {
      throw new ChainError(`cannot reach ${this.url}: ${exc.message}`);
    }
    let body;
    try { body = await response.json(); } catch { throw new ChainError(`${method}: the answer is not JSON (HTTP ${response.status})`); }
    if (body && body.error) {
      const err = new ChainError(`${method}: ${body.error.message || JSON.stringify(body.error)}`);
      err.rpcMessage = String(body.error.message || "");
      err.revertData = typeof body.error.data === "string" ? body.error.data : (body.error.data && body.error.data.data) || null;
      throw err;
    }
    if (!response.ok || !body || !("result" in body)) throw new ChainError(`${method}: HTTP ${response.status}`);
    return body.result;
  }

  ethCall(to, data) { return this.call("eth_call", [{ to, data }, "latest"]); }
}

function quantity(value, what) {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) throw new ChainError(`${what}: expected a 0x quantity`);
  return BigInt(value);
}

async function code(rpc, addr, name) {
  const out = await rpc.call("eth_getCode", [addr, "latest"]);
  if (typeof out !== "string" || out === "0x") throw new ChainError(`no contract at ${addr} (expected ${name})`);
}

export async function chainId(rpc) { return quantity(await rpc.call("eth_chainId", []), "eth_chainId"); }

/** The statement's six public values from the record, in circuit order (model hash as two 128-bit limbs). */
export function statementValues(r) {
  const h = bytesToBigInt(hexToBytes(r.model_hash));
  return [h >> 128n, h & ((1n << 128n) - 1n), r.inputDigest, r.predictionDigest, BigInt(r.predicted_class), r.explanationDigest];
}

/** Read attestation `id` (0x + 64 hex) from `registry`; NotFound when the registry has no such record. */
export async function readAttestation(rpc, registry, id) {
  registry = parseAddress(registry, "registry");
  await code(rpc, registry, "AttestationRegistry");
  let recordHex;
  try {
    recordHex = await rpc.ethCall(registry, SEL.getAttestation + id.slice(2));
  } catch (exc) {
    if (exc.revertData && exc.revertData.startsWith(SEL.unknown)) throw new NotFound(`no attestation ${id} on the registry`);
    if (exc.rpcMessage && /revert/i.test(exc.rpcMessage)) throw new NotFound(`no attestation ${id} on the registry (${exc.rpcMessage})`);
    throw exc;
  }
  const w = words(recordHex, 8, "getAttestation()");
  const modelHash = bytesToHex(bigToBytes(w[0], 32));
  const attester = address(w[1], "record.attester");
  const blockNumber = uint(w[3], 48, "record.blockNumber");
  const predictedClass = uint(w[4], 64, "record.predictedClass");
  if (w[5] > 1n) throw new ChainError("record.revoked is not a bool");
  const head = quantity(await rpc.call("eth_blockNumber", []), "eth_blockNumber");
  const cid = await chainId(rpc);
  const m = words(await rpc.ethCall(registry, SEL.modelRevocation + modelHash.slice(2)), 3, "modelRevocation()");
  const blockHex = "0x" + blockNumber.toString(16);
  const logs = await rpc.call("eth_getLogs", [{ address: registry, fromBlock: blockHex, toBlock: blockHex, topics: [ATTESTED_TOPIC, id] }]);
  if (!Array.isArray(logs) || logs.length !== 1) throw new ChainError(`expected one Attested event for the id in block ${blockNumber}`);
  const ev = decodeAttested(logs[0], registry);
  if (!hexEq(ev.id, id)) throw new ChainError("the Attested event is for another id");
  if (!hexEq(ev.modelHash, modelHash) || ev.predictedClass !== predictedClass) throw new ChainError("the Attested event disagrees with the stored record");
  if (ev.attester !== attester) throw new ChainError("the Attested event names another attester than the stored record");
  const recomputed = bytesToHex(keccak256(concat(hexToBytes(modelHash), ...[ev.inputDigest, ev.predictionDigest, predictedClass, ev.explanationDigest].map((v) => bigToBytes(v, 32)))));
  if (!hexEq(recomputed, id)) throw new ChainError("the registry's record and event do not hash to the requested id");
  const recordRevoked = w[5] === 1n, modelRevoked = m[0] === 1n;
  const revocation = recordRevoked ? [true, w[6], w[7]] : modelRevoked ? [true, m[1], m[2]] : [false, 0n, 0n];
  return {
    registry, chainId: cid, id, attester, model_hash: modelHash, predicted_class: Number(predictedClass),
    inputDigest: ev.inputDigest, predictionDigest: ev.predictionDigest, explanationDigest: ev.explanationDigest,
    timestamp: Number(w[2]), block_number: Number(blockNumber), tx_hash: ev.txHash,
    confirmations: Number(head - blockNumber + 1n > 0n ? head - blockNumber + 1n : 0n),
    proofWords: ev.proof, revoked: revocation[0], revoked_at: Number(revocation[1]),
    revocation_reason: Number(revocation[2]), model_revoked: modelRevoked,
  };
}

export function decodeAttested(log, registry) {
  if (!log || typeof log !== "object" || !hexEq(log.address, registry)) throw new ChainError("the Attested log comes from another contract");
  const t = log.topics;
  if (!Array.isArray(t) || t.length !== 4 || !hexEq(t[0], ATTESTED_TOPIC)) throw new ChainError("the log is not an Attested event");
  const w = words(log.data, 12, "Attested data");
  if (w.length !== 12) throw new ChainError("Attested data has the wrong length");
  return {
    id: t[1], modelHash: t[2], attester: address(BigInt(t[3]), "event.attester"),
    inputDigest: w[0], predictionDigest: w[1], predictedClass: w[2], explanationDigest: w[3],
    proof: w.slice(4, 12), txHash: log.transactionHash,
  };
}

/** Every (registry, id) an `Attested` log of transaction `tx` names; NotFound when it is not mined. */
export async function attestationsInTransaction(rpc, tx) {
  let receipt;
  try {
    receipt = await rpc.call("eth_getTransactionReceipt", [tx]);
  } catch (exc) {
    if (/not found/i.test(exc.rpcMessage || "")) throw new NotFound(`no mined transaction ${tx}`);
    throw exc;
  }
  if (receipt === null) throw new NotFound(`no mined transaction ${tx}`);
  const found = [];
  for (const log of receipt.logs || []) {
    try { found.push([parseAddress(log.address), decodeAttested(log, log.address).id]); } catch { /* another event */ }
  }
  return found;
}

export async function registryVerifier(rpc, registry) {
  return address(words(await rpc.ethCall(registry, SEL.verifier), 1, "verifier()")[0], "verifier()");
}

/** The verifier contract's key as calldata words [alpha, beta, gamma, delta, ic] (EIP-197 order, BigInt). */
export async function readVerifyingKey(rpc, verifier) {
  await code(rpc, verifier, "Groth16Verifier");
  const w = words(await rpc.ethCall(verifier, SEL.verifyingKey), 16, "verifyingKey()");
  const start = Number(w[14] / 32n);
  const n = Number(w[start]);
  if (n === 0 || start + 1 + 2 * n > w.length) throw new ChainError("verifyingKey(): ic does not fit the return data");
  const g2 = (k) => [[w[k], w[k + 1]], [w[k + 2], w[k + 3]]];
  const ic = [];
  for (let i = 0; i < n; i++) ic.push([w[start + 1 + 2 * i], w[start + 2 + 2 * i]]);
  return [[w[0], w[1]], g2(2), g2(6), g2(10), ic];
}
