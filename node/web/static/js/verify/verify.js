// In-browser `zkxai verify`: the same checks, in the same order, with the same verdicts, on what the visitor pinned
// (node/verify/command.py, anchors.py, report.py). Supported here: Ethereum single-mode records read over JSON-RPC, or
// a bundle offline against a pinned key, at level commitment; the rest is refused with a pointer to the CLI.
import { BundleError, DisclosureError, PUBLIC_INPUTS, Unsupported, parseBundle, recomputedPublicInputs, unsupported } from "./bundle.js";
import { ChainError, JsonRpc, NotFound, attestationsInTransaction, chainId as readChainId, parseAddress, readAttestation,
  readVerifyingKey, registryVerifier, statementValues } from "./chain.js";
import { groth16, proofFromWords, vkEqual, vkFromCalldata, vkFromSnarkjs, vkSha256 } from "./keys.js";
import { EXIT, NOTHING_PINNED, NOT_CHECKED_OFFLINE, Refusal, Report, whatIsProven } from "./report.js";
import { attestationContext } from "./bundle.js";
import { hexEq } from "./util.js";

const LEVELS = ["commitment", "inference", "explanation"];

/** What the visitor gave: the CLI's flags. `vkey` is a parsed verification_key.json, `bundle` a parsed bundle. */
function anchorsOf(o) {
  const parsed = {
    registries: o.registry ? [parseAddress(o.registry, "--registry")] : [],
    attesters: (o.attesters || []).filter(Boolean).map((a) => parseAddress(a, "--attester")),
    vkey: o.vkey ? vkFromSnarkjs(o.vkey) : null,
    vkeyName: o.vkeyName || "the pinned key",
    chainId: o.chainId === undefined || o.chainId === null || o.chainId === "" ? null : Number(o.chainId),
    level: null,
  };
  if (parsed.chainId !== null && !(Number.isSafeInteger(parsed.chainId) && parsed.chainId > 0)) throw new BundleError(`--chain-id must be positive, got ${o.chainId}`);
  if (o.level) {
    const [name, method] = String(o.level).split(":");
    if (!LEVELS.includes(name)) throw new BundleError(`--level must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(name)}`);
    if (method && name !== "explanation") throw new BundleError(`--level: only level explanation names a method, got ${JSON.stringify(o.level)}`);
    if (!parsed.registries.length && !parsed.vkey) throw new BundleError("--level says what a pinned key proves: give it with --registry or --vkey");
    parsed.level = { name, method: method || null, text: o.level };
  }
  parsed.empty = !(parsed.registries.length || parsed.attesters.length || parsed.vkey || parsed.chainId !== null || parsed.level);
  return parsed;
}

/** Verify; resolves to the report JSON (`zkxai verify --json`'s shape) or {verdict: "ERROR", exit_code, error}. */
export async function verify(options) {
  try {
    return (await run(options)).toJSON();
  } catch (exc) {
    if (exc instanceof Refusal) return exc.toJSON();
    if (exc instanceof BundleError || exc instanceof TypeError || exc instanceof Unsupported) return new Refusal(EXIT.USAGE, exc.message).toJSON();
    if (exc instanceof ChainError) return new Refusal(EXIT.CHAIN_ERROR, `cannot read the chain at ${options.rpcUrl}: ${exc.message}`).toJSON();
    return new Refusal(EXIT.USAGE, `${exc.name || "Error"}: ${exc.message}`).toJSON();
  }
}

async function run(o) {
  const bundle = o.bundle ? parseBundle(o.bundle) : null;
  const anchors = anchorsOf(o);
  if (bundle) {
    const why = unsupported(bundle);
    if (why) throw new Unsupported(`not verified in the browser: ${why}`);
  }
  if (!o.rpcUrl) return offline(bundle, anchors);
  let id = o.id || (bundle ? bundle.attestation_id : null);
  if (!o.tx && !id) throw new Refusal(EXIT.USAGE, "give --id, --tx, or a --disclosure bundle that names the attestation");
  if (id && !o.tx && !/^(0x)?[0-9a-fA-F]{64}$/.test(id)) throw new Refusal(EXIT.USAGE, `attestation id must be 0x followed by 64 hex digits, got ${JSON.stringify(id)}`);
  if (id && !id.startsWith("0x")) id = "0x" + id;
  const rpc = new JsonRpc(o.rpcUrl);
  const report = new Report(id || "?");
  if (anchors.empty) report.notes.push(NOTHING_PINNED);
  const cid = Number(await readChainId(rpc));
  if (anchors.chainId !== null) {
    report.add("chain", anchors.chainId === cid, `the RPC serves chain ${cid}` + (anchors.chainId === cid ? " (pinned by --chain-id)" : `, not the pinned ${anchors.chainId}`));
  }
  const pinned = anchors.registries;
  let candidates, foundBy;
  if (o.tx) {
    let found;
    try { found = await attestationsInTransaction(rpc, o.tx); } catch (exc) {
      if (exc instanceof NotFound) throw new Refusal(EXIT.NOT_FOUND, exc.message);
      throw exc;
    }
    if (!found.length) throw new Refusal(EXIT.NOT_FOUND, `transaction ${o.tx} made no attestation`);
    const hit = found.find(([a]) => !pinned.length || pinned.some((p) => hexEq(p, a)));
    if (!hit) {
      report.add("record", false, `transaction ${o.tx} made no attestation in the pinned registry ${pinned.join(", ")} (it has an Attested log from ${found.map(([a]) => a).join(", ")}, not pinned)`);
      return report;
    }
    [candidates, id] = [[hit[0]], hit[1]];
    report.attestation_id = id;
    foundBy = `transaction ${o.tx}`;
  } else {
    const named = bundle && bundle.chain ? bundle.chain.registry : null;
    candidates = pinned.length ? [...pinned.filter((a) => named && hexEq(a, named)), ...pinned.filter((a) => !(named && hexEq(a, named)))] : named ? [named] : [];
    if (!candidates.length) throw new Refusal(EXIT.USAGE, "give --registry (or --trust), or a --disclosure bundle that names one");
    foundBy = "the disclosure bundle";
  }
  let record = null;
  const misses = [];
  for (const registry of candidates) {
    try { record = await readAttestation(rpc, registry, id.toLowerCase()); break; } catch (exc) {
      if (!(exc instanceof NotFound)) throw exc;
      misses.push(exc.message);
    }
  }
  if (record === null) {
    report.add("record", false, candidates.length === 1 ? misses.join("; ") : `no pinned registry (${candidates.join(", ")}) holds ${id}: ${misses.join("; ")}`);
    return report;
  }
  report.record = recordJson(record);
  const detail = `on chain ${cid}: block ${record.block_number}, tx ${record.tx_hash}`;
  const registryPinned = pinned.some((a) => hexEq(a, record.registry));
  if (registryPinned) report.add("record", true, `${detail}; in registry ${record.registry}, pinned by --registry`);
  else report.addUnpinned("record", `${detail}; in registry ${record.registry}, named by ${foundBy} only: not pinned`);
  checkAttester(report, record.attester, anchors.attesters);
  if (record.revoked) {
    report.add("revocation", false, `${record.model_revoked ? "its whole model was revoked" : "the attestation was revoked"} at ${record.revoked_at} (reason code ${record.revocation_reason})`);
  } else report.add("revocation", true, "not revoked");
  const need = o.confirmations ?? 1;
  report.add("finality", record.confirmations >= need, `${record.confirmations} confirmation(s), ${need} required`);
  const verifier = await registryVerifier(rpc, record.registry);
  const onchain = vkFromCalldata(await readVerifyingKey(rpc, verifier));
  await checkVk(report, onchain, anchors, registryPinned, `the registry's verifier ${verifier}`);
  const publicInputs = [...statementValues(record), attestationContext(cid, record.registry, record.attester)];
  await checkProof(report, anchors.vkey || onchain, publicInputs, proofFromWords(record.proofWords));
  if (bundle) await checkDisclosure(report, bundle, id, publicInputs);
  checkLevel(report, anchors, bundle, anchors.level && (registryPinned || anchors.vkey) ? anchors.level : null);
  return report;
}

async function offline(bundle, anchors) {
  if (!bundle || !anchors.vkey) throw new Refusal(EXIT.USAGE, "offline verification (no --rpc-url) needs --disclosure and --vkey");
  const report = new Report(bundle.attestation_id);
  const vk = anchors.vkey;
  report.add("vk", true, `pinned key ${anchors.vkeyName} (${vk.ic.length - 1} public inputs); no chain consulted`);
  report.notes.push(NOT_CHECKED_OFFLINE);
  await checkProof(report, vk, bundle.public_inputs, bundle.proof);
  await checkDisclosure(report, bundle, bundle.attestation_id, bundle.public_inputs);
  checkLevel(report, anchors, bundle, anchors.level && anchors.vkey ? anchors.level : null);
  return report;
}

function checkAttester(report, attester, pinned) {
  if (!pinned.length) return report.addUnpinned("attester", `attested by ${attester}: no attester pinned (--attester or --trust)`);
  if (pinned.some((a) => hexEq(a, attester))) return report.add("attester", true, `attested by ${attester}, pinned by --attester`);
  return report.add("attester", false, `attested by ${attester}, NOT one of the pinned attesters ${pinned.join(", ")}`);
}

async function checkVk(report, onchain, anchors, registryPinned, where) {
  const inputs = `${onchain.ic.length - 1} public inputs`;
  if (anchors.vkey && !vkEqual(anchors.vkey, onchain)) return report.add("vk", false, `the key of ${where} differs from the pinned ${anchors.vkeyName}`);
  if (anchors.vkey) return report.add("vk", true, `the key of ${where} (${inputs}) equals the one pinned by --vkey ${anchors.vkeyName}`);
  const digest = await vkSha256(onchain);
  if (registryPinned) return report.add("vk", true, `read from the pinned registry's verifier (${inputs}, vk_sha256 ${digest})`);
  return report.addUnpinned("vk", `read from ${where} (${inputs}, vk_sha256 ${digest}): neither the key nor the registry is pinned`);
}

async function checkProof(report, vk, publicInputs, proof) {
  const ok = await groth16(vk, publicInputs, proof);
  if (ok instanceof Error) return report.add("proof", false, `rejected before pairing: ${ok.message}`);
  return report.add("proof", ok === true, ok === true ? "pairing check passed (snarkjs in this browser, off-chain)" : "pairing check FAILED");
}

async function checkDisclosure(report, bundle, id, publicInputs) {
  if (bundle.attestation_id.toLowerCase() !== id.toLowerCase()) return report.add("disclosure", false, `bundle is for ${bundle.attestation_id}, not ${id}`);
  let recomputed;
  try { recomputed = await recomputedPublicInputs(bundle); } catch (exc) {
    if (exc instanceof DisclosureError) return report.add("disclosure", false, exc.message);
    throw exc;
  }
  if (recomputed.length !== publicInputs.length) return report.add("disclosure", false, `the bundle (${bundle.format}) gives ${recomputed.length} public inputs, the record has ${publicInputs.length}`);
  const bad = PUBLIC_INPUTS.filter((n, i) => i < recomputed.length && recomputed[i] !== BigInt(publicInputs[i]));
  if (bad.length) return report.add("disclosure", false, `recomputed from the disclosed data and its chain section, these differ from the record: ${bad.join(", ")}`);
  return report.add("disclosure", true, `input, prediction (class ${bundle.prediction.predicted_class}) and explanation (${bundle.explanation.method}) reproduce the digests`);
}

function checkLevel(report, anchors, bundle, pinned) {
  if (!bundle) {
    if (pinned) report.add("level", true, `${whatIsProven(pinned.name, pinned.method || "pinned")}; pinned by --level (no bundle: the record's digests are not opened)`);
    return;
  }
  const claimed = bundle.level, method = bundle.explanation.method;
  if (!pinned) {
    if (claimed === "commitment") return report.add("level", true, whatIsProven(claimed, method));
    return report.addUnpinned("level", `the bundle claims level ${claimed}; the level is a property of the registry's verifier key and nothing you pinned names it`);
  }
  if (pinned.name === claimed && (pinned.method === null || pinned.method === method)) return report.add("level", true, `${whatIsProven(claimed, method)}; level pinned by --level`);
  return report.add("level", false, `the bundle claims level ${claimed}${claimed === "explanation" ? ` (${method})` : ""}, but the record's key is pinned at ${pinned.text} (--level)`);
}

function recordJson(r) {
  return { model_hash: r.model_hash, predicted_class: r.predicted_class, input_digest: String(r.inputDigest),
    prediction_digest: String(r.predictionDigest), explanation_digest: String(r.explanationDigest), attester: r.attester,
    timestamp: r.timestamp, block_number: r.block_number, tx_hash: r.tx_hash, confirmations: r.confirmations,
    revoked: r.revoked, revoked_at: r.revoked_at, revocation_reason: r.revocation_reason, model_revoked: r.model_revoked };
}
