// Bytes, hex and field helpers shared by the in-browser verifier (no dependencies).

/** The BN254 scalar field order r (public inputs and digests live below it). */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export function hexToBytes(hex, what = "hex") {
  if (typeof hex !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`${what}: expected 0x-prefixed hex`);
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

export function bytesToHex(bytes) {
  return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function bytesToBigInt(bytes) {
  return bytes.length ? BigInt(bytesToHex(bytes)) : 0n;
}

/** A non-negative BigInt as `size` big-endian bytes (RangeError when it does not fit). */
export function bigToBytes(value, size) {
  if (value < 0n || value >= 1n << BigInt(8 * size)) throw new RangeError(`${value} does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  let v = value;
  for (let i = size - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** A signed integer as `size`-byte big-endian two's complement. */
export function signedToBytes(value, size) {
  const bits = BigInt(8 * size);
  const min = -(1n << (bits - 1n)), max = (1n << (bits - 1n)) - 1n;
  if (value < min || value > max) throw new RangeError(`${value} does not fit a signed ${8 * size}-bit integer`);
  return bigToBytes(value < 0n ? value + (1n << bits) : value, size);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export const utf8 = (text) => new TextEncoder().encode(text);

/** SHA-256 with the browser's WebCrypto (needs a secure context: https or loopback). */
export async function sha256(bytes) {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    throw new Error("WebCrypto is unavailable: open the explorer over https or on loopback");
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

export const hexEq = (a, b) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
