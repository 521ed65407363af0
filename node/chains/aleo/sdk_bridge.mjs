// zkxai's bridge to the Aleo SDK (@provablehq/sdk, pinned in package.json), run by node/chains/aleo/sdk.py as a
// long-lived child process. Protocol: one JSON object per line on stdin {"id", "op", ...args}; one JSON object per
// line on stdout {"id", "ok": true, "result"} or {"id", "ok": false, "error", "kind"}. Nothing else is written to
// stdout (the SDK's own logging goes to stderr). Private keys arrive in requests and are never echoed or logged.
//
// ops: ping; new_account; address(private_key); check_program(source) (parse + type-check in a Process);
//      evaluate(source, function, inputs, private_key) (assertions checked); estimate_fee(source, function);
//      authorize(source, function, inputs, private_key) -> {authorization, execution_id, outputs};
//      proving_request(source, function, inputs, private_key, base_fee_credits, priority_fee_credits)
//          -> {proving_request, execution_id, outputs} (execution + credits.aleo/fee_public authorizations, the
//          JSON the Provable delegated-proving API takes).
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const network = process.env.ZKXAI_ALEO_SDK_NETWORK === "mainnet" ? "mainnet" : "testnet";
console.log = (...a) => console.error(...a); // keep stdout for the protocol
const modules = process.env.ZKXAI_NODE_MODULES;
const entry = `@provablehq/sdk/dist/${network}/node.js`;
const sdk = await import(modules ? pathToFileURL(path.join(modules, entry)).href : `@provablehq/sdk/${network}.js`);
const { PrivateKey, Program, ProgramManagerBase, ProgramImportsBuilder, ProvingRequest } = sdk;
const PM = ProgramManagerBase;

function outputsOf(authorization) {
  const out = [];
  for (const t of authorization.transitions()) {
    const obj = JSON.parse(t.toString());
    out.push({ program: obj.program, function: obj.function, outputs: (obj.outputs || []).map((o) => ({ type: o.type, value: o.value })) });
  }
  return out;
}

function checkProgram(source) {
  const program = Program.fromString(source);
  const imports = new ProgramImportsBuilder();
  imports.addProgram(program.id(), source);
  return { id: program.id(), functions: program.getFunctions(), mappings: program.getMappings(), canonical: program.toString() };
}

const ops = {
  ping: async () => ({ network }),
  new_account: async () => {
    const pk = new PrivateKey();
    return { private_key: pk.to_string(), address: pk.to_address().to_string() };
  },
  address: async ({ private_key }) => ({ address: PrivateKey.from_string(private_key).to_address().to_string() }),
  check_program: async ({ source }) => checkProgram(source),
  authorize: async ({ source, function: fn, inputs, private_key }) => {
    const pk = PrivateKey.from_string(private_key);
    const auth = await PM.authorize(pk, source, fn, inputs);
    return { authorization: auth.toString(), execution_id: auth.toExecutionId().toString(), outputs: outputsOf(auth) };
  },
  evaluate: async ({ source, function: fn, inputs, private_key }) => {
    // Runs the function with its assertions checked (authorize computes outputs without checking them). The SDK
    // evaluates first, then synthesizes proving keys, which needs the SRS it downloads: offline, a failure to
    // download after evaluation means the evaluation passed.
    const pk = PrivateKey.from_string(private_key);
    try {
      const response = await PM.executeFunctionOffline(pk, source, fn, inputs, false, false);
      return { checked: true, outputs: response.getOutputs().map((o) => o.toString()) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/Failed to download powers/.test(message) && !/Failed to evaluate/.test(message)) {
        return { checked: true, outputs: null };
      }
      throw err;
    }
  },
  estimate_fee: async ({ source, function: fn }) => ({ microcredits: PM.estimateExecutionFee(source, fn).toString() }),
  proving_request: async ({ source, function: fn, inputs, private_key, base_fee_credits, priority_fee_credits }) => {
    const pk = PrivateKey.from_string(private_key);
    const auth = await PM.authorize(pk, source, fn, inputs);
    const executionId = auth.toExecutionId().toString();
    const outputs = outputsOf(auth); // before ProvingRequest.new, which takes ownership of auth
    // base fee: as given, or the SDK's offline estimate for this function (execution storage + finalize cost)
    const baseFee = base_fee_credits ?? Number(PM.estimateExecutionFee(source, fn)) / 1e6;
    const fee = await PM.authorizeFee(pk, executionId, baseFee, priority_fee_credits, undefined);
    const request = ProvingRequest.new(auth, fee, false);
    return { proving_request: request.toString(), execution_id: executionId, outputs, base_fee_credits: baseFee };
  },
};

const rl = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of rl) {
  if (!line.trim()) continue;
  let id = null;
  try {
    const req = JSON.parse(line);
    id = req.id ?? null;
    const op = ops[req.op];
    if (!op) throw Object.assign(new Error(`unknown op ${req.op}`), { kind: "usage" });
    const result = await op(req);
    process.stdout.write(JSON.stringify({ id, ok: true, result }) + "\n");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stdout.write(JSON.stringify({ id, ok: false, error: message.slice(0, 4000), kind: err?.kind ?? "sdk" }) + "\n");
  }
}
