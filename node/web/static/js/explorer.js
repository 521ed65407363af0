// The public explorer: look up a record (this node's public view, or an uploaded disclosure bundle), then verify it
// in this browser with ./verify against what the visitor pins. Nothing the node says is used as an anchor.
import { verify } from "./verify/verify.js";
import { drawHeatmap } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const state = { bundle: null, view: null, key: null, isTx: false, nodes: [] };
window.zkxaiVerify = verify;  // the browser tests compare its verdicts with `zkxai verify --json`

function text(el, value) { el.textContent = value; return el; }

function facts(list, pairs) {
  list.replaceChildren();
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === "") continue;
    list.append(text(document.createElement("dt"), k), text(document.createElement("dd"), String(v)));
  }
}

function showAttestation() {
  const b = state.bundle, v = state.view || {};
  const chain = (b && b.chain) || v.chain || {};
  facts($("facts"), [
    ["Attestation id", (b && b.attestation_id) || v.attestation_id || state.key],
    ["Model hash", (b && b.model_hash) || v.model_hash], ["Predicted class", b ? b.prediction.predicted_class : v.predicted_class],
    ["Proof level", (b && (b.level || "commitment")) || v.level], ["Explanation method", (b && b.explanation.method) || v.method],
    ["Chain id", chain.chain_id], ["Registry", chain.registry], ["Attester", chain.attester],
    ["Transaction", chain.tx_hash || v.tx_hash], ["Block", chain.block_number ?? v.block_number],
    ["Status at this node", v.status],
  ]);
  const assessment = (b && b.assessment) || (v.assessment || null);
  const trust = assessment && (assessment.trust || assessment.quality);
  $("trust").hidden = !trust;
  if (trust) facts($("trust-dl"), Object.entries({ ...(assessment.trust || {}), ...(assessment.quality || {}) })
    .filter(([, x]) => typeof x !== "object").map(([k, x]) => [k, typeof x === "number" ? x.toPrecision(4) : x]));
  $("heat-fig").hidden = !(b && b.explanation && Array.isArray(b.explanation.values));
  if (b && b.explanation && Array.isArray(b.explanation.values)) {
    const { h, w } = drawHeatmap($("heatmap"), b.explanation.shape || [], b.explanation.values);
    text($("heat-cap"), `Explanation heatmap, ${b.explanation.method} (${h}×${w}, from the disclosed bundle; red raises the class, blue lowers it)`);
  }
}

async function readFile(input) {
  const file = input.files && input.files[0];
  return file ? JSON.parse(await file.text()) : null;
}

async function lookup(event) {
  event.preventDefault();
  const status = $("lookup-status");
  try {
    state.bundle = await readFile($("bundle-file"));
  } catch (exc) {
    text(status, `The bundle is not JSON: ${exc.message}`);
    return;
  }
  const key = $("key").value.trim() || (state.bundle && state.bundle.attestation_id) || "";
  state.key = key; state.view = null; state.isTx = false;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    text(status, "Give an attestation id or transaction hash (0x followed by 64 hex digits), or a bundle.");
    return;
  }
  const answer = await fetch(`/v1/explorer/attestations/${key}`).catch(() => null);
  if (answer && answer.ok) {
    state.view = await answer.json();
    state.isTx = !!state.view.tx_hash && state.view.tx_hash.toLowerCase() === key.toLowerCase() && state.view.attestation_id.toLowerCase() !== key.toLowerCase();
    text(status, `Found at this node: ${state.view.status}. Now pin what you trust and verify.`);
  } else {
    text(status, state.bundle ? "Bundle loaded. Now pin what you trust and verify." : "This node does not know it; it can still be verified on the chain you name.");
  }
  showAttestation();
}

function parseJson(value, what) {
  if (!value.trim()) return null;
  try { return JSON.parse(value); } catch (exc) { throw new Error(`${what} is not JSON: ${exc.message}`); }
}

function render(report) {
  const box = $("verdict");
  box.className = `verdict ${report.verdict.toLowerCase()}`;
  const failed = (report.checks || []).filter((c) => c.status === "fail").map((c) => c.name);
  const unpinned = (report.checks || []).filter((c) => c.status === "unpinned").map((c) => c.name);
  text(box, report.verdict === "VALID" ? "VALID: every check passed in this browser"
    : report.verdict === "INVALID" ? `INVALID: failed ${failed.join(", ")}`
      : report.verdict === "UNPINNED" ? `UNPINNED: ${unpinned.join(", ")} rest on nothing you pinned`
        : `ERROR: ${report.error}`);
  const body = $("checks").tBodies[0];
  body.replaceChildren();
  for (const c of report.checks || []) {
    const tr = document.createElement("tr");
    tr.className = c.status;
    tr.dataset.check = c.name;
    tr.append(text(document.createElement("th"), c.name), text(document.createElement("td"), c.status.toUpperCase()),
      text(document.createElement("td"), c.detail));
    tr.firstChild.scope = "row";
    body.append(tr);
  }
  $("notes").replaceChildren(...(report.notes || []).map((n) => text(document.createElement("li"), n)));
  if (report.record && report.record.block_number !== undefined) {
    const r = report.record;
    facts($("facts"), [["Attestation id", report.attestation_id], ["Model hash", r.model_hash], ["Predicted class", r.predicted_class],
      ["Proof level", state.bundle ? state.bundle.level || "commitment" : (state.view || {}).level], ["Attester", r.attester],
      ["Block", r.block_number], ["Transaction", r.tx_hash], ["Confirmations", r.confirmations],
      ["Revocation", r.revoked ? `REVOKED at ${r.revoked_at} (reason ${r.revocation_reason}${r.model_revoked ? ", whole model" : ""})` : "not revoked"]]);
  }
}

async function runVerify(event) {
  event.preventDefault();
  const box = $("verdict");
  box.className = "verdict busy";
  text(box, "Verifying in this browser…");
  let report;
  try {
    const vkeyFile = await readFile($("vkey-file"));
    const vkey = vkeyFile || parseJson($("vkey").value, "the verification key");
    const key = state.key || $("key").value.trim();
    report = await verify({
      rpcUrl: $("rpc").value.trim() || null, id: state.isTx ? null : key || null, tx: state.isTx ? key : null,
      bundle: state.bundle, vkey, vkeyName: vkeyFile ? $("vkey-file").files[0].name : "(pasted key)",
      registry: $("registry").value.trim() || null, attesters: [$("attester").value.trim()].filter(Boolean),
      chainId: $("chain-id").value.trim() || null, level: $("level").value || null,
    });
  } catch (exc) {
    report = { verdict: "ERROR", exit_code: 2, error: exc.message };
  }
  render(report);
}

function loadNodes(list) {
  state.nodes = Array.isArray(list) ? list.filter((n) => n && typeof n === "object") : [];
  const select = $("known");
  select.replaceChildren(new Option("(none)", ""), ...state.nodes.map((n, i) => new Option(String(n.name || n.registry || `node ${i + 1}`), String(i))));
}

function useNode() {
  const n = state.nodes[Number($("known").value)];
  if (!n) return;
  $("rpc").value = n.rpc_url || $("rpc").value;
  $("registry").value = n.registry || "";
  $("attester").value = n.attester || "";
  $("chain-id").value = n.chain_id ?? "";
  $("vkey").value = n.vkey ? JSON.stringify(n.vkey) : "";
}

$("lookup").addEventListener("submit", lookup);
$("pins").addEventListener("submit", runVerify);
$("known").addEventListener("change", useNode);
$("nodes-file").addEventListener("change", async () => {
  try {
    const list = await readFile($("nodes-file"));
    localStorage.setItem("zkxai.nodes", JSON.stringify(list));
    loadNodes(list);
  } catch (exc) { text($("lookup-status"), `The node list is not JSON: ${exc.message}`); }
});
try { loadNodes(JSON.parse(localStorage.getItem("zkxai.nodes") || "[]")); } catch { loadNodes([]); }
$("rpc").value = `${location.origin}/rpc`;
const fromUrl = new URLSearchParams(location.search).get("id");
if (fromUrl) $("key").value = fromUrl;
document.body.dataset.ready = "true";
