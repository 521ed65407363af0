// circomlibjs imports Node's "assert"; in the browser bundle it is this (a failed assertion throws).
export default function assert(condition, message) {
  if (!condition) throw new Error(message || "assertion failed");
}
