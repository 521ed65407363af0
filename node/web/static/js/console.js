// The operator console: polls GET /v1/console/state with the admin key every 2 s and renders it; revokes through
// POST /v1/attestations/{key}/revoke after a confirmation dialog. The key stays in this tab (sessionStorage).
const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
let timer = null;

function cell(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value === null || value === undefined ? "" : String(value);
  if (cls) el.className = cls;
  return el;
}

function rows(table, data) {
  table.tBodies[0].replaceChildren(...data.map((values) => {
    const tr = document.createElement("tr");
    values.forEach((v, i) => tr.append(cell(i === 0 ? "th" : "td", v)));
    tr.firstChild.scope = "row";
    return tr;
  }));
}

function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) dl.append(cell("dt", k), cell("dd", v));
}

const short = (h) => (typeof h === "string" && h.length > 18 ? `${h.slice(0, 10)}…${h.slice(-6)}` : h);
const headers = () => ({ Authorization: `Bearer ${sessionStorage.getItem("zkxai.admin") || ""}` });

function render(s) {
  const n = s.node;
  facts($("node"), [["Chain id", n.chain_id], ["Registry", n.registry], ["Verifier", n.verifier], ["Attester", n.attester],
    ["vk_sha256", n.vk_sha256], ["Mode", n.mode], ["Embedded chain", n.embedded ? "yes" : "no"], ["In flight", n.inflight],
    ["Intake", n.accepting ? "accepting" : "stopped"]]);
  const q = [];
  for (const st of s.stages) q.push(["requests", st, s.queues.requests[st] || 0]);
  for (const [st, c] of Object.entries(s.queues.batches)) q.push(["batches", st, c]);
  for (const [chain, by] of Object.entries(s.queues.targets)) for (const [st, c] of Object.entries(by)) q.push([`chain ${chain}`, st, c]);
  for (const t of n.targets) q.push([`chain ${t.chain}`, "queued in memory", t.queued]);
  rows($("queues"), q);
  const g = s.gas;
  facts($("perf"), [["Proofs in the last 10 min", g.proofs_in_window], ["Prover throughput", `${g.proofs_per_min} proofs/min`],
    ["Mean proving time", g.mean_prove_s === null ? "–" : `${g.mean_prove_s} s`], ["Gas spent (all time)", g.gas_total.toLocaleString("en")]]);
  const chart = $("gas-chart"), series = g.gas_series.map((p) => p.gas);
  const max = Math.max(1, ...series);
  chart.replaceChildren();
  if (series.length) {
    const poly = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    poly.setAttribute("points", series.map((v, i) => `${(i / Math.max(1, series.length - 1)) * 300},${60 - (v / max) * 55}`).join(" "));
    poly.setAttribute("class", "line");
    chart.append(poly);
  }
  rows($("recent"), s.recent.map((r) => [r.request_id, r.status, r.predicted_class, r.level,
    Object.entries(r.timings).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k.replace(/_s$/, "")} ${v.toFixed(2)}`).join(", "),
    r.gas_used, short(r.attestation_id)]));
  $("recent").tBodies[0].querySelectorAll("tr").forEach((tr, i) => { tr.dataset.request = s.recent[i].request_id; tr.dataset.status = s.recent[i].status; });
  $("failures").replaceChildren(...(s.failures.length ? s.failures.map((f) => cell("li", `${f.request_id}: ${f.status}: ${f.error || "no reason recorded"}`))
    : [cell("li", "none")]));
  rows($("deployments"), s.deployments.map((d) => [d.kind, d.chain_id, d.address, d.verifier, short(d.vk_sha256)]));
}

async function poll() {
  clearTimeout(timer);
  try {
    const answer = await fetch("/v1/console/state", { headers: headers() });
    if (answer.status === 401 || answer.status === 403) {
      $("conn").textContent = "the admin key was refused";
      return;
    }
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    render(await answer.json());
    $("conn").textContent = `connected, updated ${new Date().toLocaleTimeString()}`;
  } catch (exc) {
    $("conn").textContent = `cannot reach the node: ${exc.message}`;
  }
  timer = setTimeout(poll, POLL_MS);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("zkxai.admin", $("admin-key").value);
  poll();
});

$("revoke").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("revoke-id").value.trim(), reason = Number($("revoke-reason").value);
  if (!key || !Number.isInteger(reason) || reason < 0 || reason > 65535) {
    $("revoke-status").textContent = "Give an attestation id and a reason code from 0 to 65535.";
    return;
  }
  $("confirm-text").textContent = `Revoke ${key} with reason ${reason}? This sends a transaction; verifiers will see it revoked.`;
  const dialog = $("confirm");
  dialog.onclose = async () => {
    if (dialog.returnValue !== "confirm") { $("revoke-status").textContent = "Not revoked."; return; }
    const answer = await fetch(`/v1/attestations/${encodeURIComponent(key)}/revoke`, { method: "POST",
      headers: { ...headers(), "Content-Type": "application/json" }, body: JSON.stringify({ reason }) });
    const body = await answer.json().catch(() => ({}));
    $("revoke-status").textContent = answer.ok ? `Revoked: ${JSON.stringify(body)}` : `Refused (${answer.status}): ${(body.error || {}).message || ""}`;
    poll();
  };
  dialog.showModal();
});

if (sessionStorage.getItem("zkxai.admin") !== null) poll();
document.body.dataset.ready = "true";
