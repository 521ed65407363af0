"""The ``zkxai`` command line: ``node``, ``keys``, ``verify``, ``trust``, ``show``, ``demo``.

``verify``, ``trust`` and ``show`` run on the light install (no torch); ``node`` and ``demo`` need the ``node`` extra.
Heavy modules are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from node.verify import command as verify_cli


def _node(args: argparse.Namespace) -> int:
    from node.api.app import build_app
    from node.api.http_server import serve
    from node.errors import ConfigError
    from node.logs import configure_logging
    from node.settings import load_config

    try:
        config = load_config(args.config, args.secrets, overrides={
            "host": args.host, "port": args.port, "data_dir": args.data_dir, "database_url": args.database_url,
            "rpc_url": args.rpc_url, "registry": args.registry, "prover_workers": args.prover_workers,
            "attestation_mode": args.attestation_mode, "batch_size": args.batch_size,
            "batch_latency_ms": args.batch_latency_ms, "batch_registry": args.batch_registry,
            "redeploy": args.redeploy or None, "confirmations": args.confirmations})
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    configure_logging(json_logs=args.log_format == "json")
    try:
        serve(build_app(config), config, shutdown_timeout=30)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    return 0


def _node_init(args: argparse.Namespace) -> int:
    from node.errors import ConfigError
    from node.settings import write_default_config

    try:
        config, secrets_file, address = write_default_config(args.dir, args.network)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {config} (commented defaults) and {secrets_file} (mode 600)")
    print(f"new signing key {address} in {args.dir / 'keystore.json'} (scrypt keystore); fund it before using a real chain")
    print(f"start with: zkxai node run --config {config}")
    return 0


def _node_status(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    base = args.url.rstrip("/")
    out: dict[str, object] = {"url": base}
    code = 0
    for path in ("/healthz", "/readyz", "/v1/info"):
        try:
            with urllib.request.urlopen(base + path, timeout=10) as resp:
                out[path] = json.loads(resp.read())
        except urllib.error.HTTPError as err:
            out[path] = json.loads(err.read() or b"{}")
            code = 1
        except OSError as exc:
            out[path] = {"error": str(exc)}
            code = 1
    if args.json:
        print(json.dumps(out, indent=1))
        return code
    ready = out.get("/readyz", {})
    info = out.get("/v1/info", {})
    print(f"node      {base}: {'READY' if code == 0 else 'NOT READY'}")
    if isinstance(ready, dict):
        for name, state in (ready.get("checks") or {}).items():
            print(f"  {name:<9} {state}")
    if isinstance(info, dict) and "registry" in info:
        origins = info.get("deployments") or {}
        print(f"chain     {info['chain_id']} registry {info['registry']} ({origins.get('registry', '?')}; "
              f"embedded: {info['embedded_chain']})")
        if info.get("batch_registry"):
            print(f"          batch registry {info['batch_registry']} ({origins.get('batch_registry', '?')}; "
                  f"batch size {info.get('batch_size')})")
        print(f"requests  {info.get('requests')}  in flight {info.get('inflight')}")
    return code


def _keys_export_r1cs(args: argparse.Namespace) -> int:
    from circuits.commitment import commitment_circuit
    from prover.circom_files import write_r1cs
    from prover.errors import ProverError

    from node.config import NodeConfig
    from node.errors import ConfigError

    try:
        NodeConfig(circuit_classes=args.classes)  # the class-count range check
        r1cs = commitment_circuit(args.classes).r1cs
        write_r1cs(r1cs, args.out)
    except (ConfigError, ProverError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: commitment circuit, {args.classes} classes, {r1cs.n_constraints} constraints, "
          f"{r1cs.n_wires} wires, {r1cs.n_public} public inputs")
    power = max(1, (r1cs.n_constraints + r1cs.n_public).bit_length())
    print(f"ceremony: snarkjs powersoftau (power >= {power}) + groth16 setup {args.out} + zkey contribute per party, "
          "then: zkxai keys import-zkey FINAL.zkey")
    return 0


def _keys_import_zkey(args: argparse.Namespace) -> int:
    from node.config import NodeConfig
    from node.errors import ConfigError
    from node.pipeline.proving import import_zkey

    try:
        keys_dir = NodeConfig(data_dir=args.data_dir, circuit_classes=args.classes).keys_dir
        done = import_zkey(args.zkey, keys_dir, args.classes, force=args.force)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imported ceremony zkey {done.zkey.resolve()} (sha256 {done.sha256}, domain {done.domain_size})")
    print(f"proving key     {done.paths.proving_key}")
    print(f"verifying key   {done.paths.verifying_key} (snarkjs format)")
    print("the key is as trustworthy as its ceremony: check it with `snarkjs zkey verify` against the r1cs and ptau")
    return 0


def _show(args: argparse.Namespace) -> int:
    from explainers.errors import ExplainerError

    from node.verify.disclosure import Disclosure
    from node.errors import DisclosureError

    try:
        d = Disclosure.load(args.bundle)
    except DisclosureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scores = [s / 65536 for s in d.scores[: d.num_classes]]
    trust = (d.assessment or {}).get("trust")
    quality = (d.assessment or {}).get("quality")
    png = None
    if args.png is not None:
        try:
            png = _render_png(d, args.png, args.image_shape)
        except (ValueError, ImportError, ExplainerError) as exc:
            print(f"error: cannot render {args.png}: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"attestation_id": d.attestation_id, "model_hash": "0x" + d.model_hash.hex(),
                          "predicted_class": d.predicted_class, "scores": scores, "method": d.method,
                          "trust": trust, "quality": quality, "png": png}, indent=1))
        return 0
    print(f"attestation   {d.attestation_id}")
    if d.chain:
        print(f"chain         {d.chain.chain_id}  registry {d.chain.registry}  tx {d.chain.tx_hash}  block {d.chain.block_number}")
    print(f"model         0x{d.model_hash.hex()}")
    print(f"prediction    class {d.predicted_class}   logits " + " ".join(f"{s:+.2f}" for s in scores))
    if trust:
        shown = {k: trust.get(k) for k in ("confidence", "margin", "entropy", "ood_percentile", "trust_score",
                                           "hallucination_risk") if trust.get(k) is not None}
        print("trust         " + "  ".join(f"{k}={v:.3f}" for k, v in shown.items()) + "   (measured, not proven)")
    if quality:
        print("quality       " + "  ".join(f"{k}={v:.3f}" for k, v in quality.items()))
    print(f"explanation   {d.method}, shape {list(d.explanation_shape)}")
    values = [v / 65536 for v in d.explanation_values]
    top = sorted(range(len(values)), key=lambda i: -abs(values[i]))[:8]
    print("              top features: " + ", ".join(f"#{i}={values[i]:+.3f}" for i in top))
    if png:
        print(f"heatmap       {png}")
    return 0


def _render_png(d: object, out: Path, image_shape: str | None) -> str:
    """Heatmap of the disclosed explanation: an input overlay for images, a bar chart for feature vectors."""
    import numpy as np

    from explainers.render import render_bar_chart, render_image_overlay

    from node.verify.disclosure import Disclosure

    assert isinstance(d, Disclosure)
    x = np.asarray(d.input_values, dtype=np.float64).reshape(d.input_shape) / 65536
    a = np.asarray(d.explanation_values, dtype=np.float64).reshape(d.explanation_shape) / 65536
    if image_shape:
        try:
            shape = tuple(int(v) for v in image_shape.lower().split("x"))
        except ValueError:
            raise ValueError(f"--image-shape must look like 8x8 or 3x32x32, got {image_shape!r}") from None
        x, a = x.reshape(shape), a.reshape(shape)
    data = render_image_overlay(x, a) if x.ndim >= 2 else render_bar_chart(a)
    out.write_bytes(data)
    return str(out)


def _trust_show(args: argparse.Namespace) -> int:
    """Print the trust-file entry a node claims in /v1/info (light: urllib + the trust parser)."""
    import urllib.error
    import urllib.request

    from node.verify.trust import (
        TrustError,
        entry_from_info,
        entry_toml,
        proven_entries_from_info,
    )

    base = args.url.rstrip("/")
    try:
        with urllib.request.urlopen(base + "/v1/info", timeout=10) as resp:
            info = json.loads(resp.read())
        name = args.name or base.split("//", 1)[-1]
        entry = entry_from_info(info, name)
        proven = proven_entries_from_info(info, name)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {base}/v1/info: {exc}", file=sys.stderr)
        return 6
    except (TrustError, KeyError, TypeError) as exc:
        print(f"error: {base}/v1/info does not describe a node to pin: {exc}", file=sys.stderr)
        return 2
    print(f"# what the node at {base} CLAIMS about itself (its /v1/info): pin it only after checking it out of band")
    print("# (ask the operator over a channel you trust; compare vk_sha256 with `zkxai trust digest <published vk.json>`)")
    print(entry_toml(entry), end="")
    for p, claimed in zip(proven, info.get("proven") or []):
        print(f"\n# model {claimed['model_hash']} at level {p.level}{f' ({p.method})' if p.method else ''}: "
              "its own registry and verifier key")
        print(entry_toml(p), end="")
    return 0


def _trust_digest(args: argparse.Namespace) -> int:
    from prover.errors import ProverError
    from prover.serialize import vk_from_snarkjs

    from node.verify.trust import vk_sha256_of

    try:
        print(vk_sha256_of(vk_from_snarkjs(json.loads(args.vkey.read_text()))))
    except (OSError, ValueError, ProverError) as exc:
        print(f"error: cannot load verifying key {args.vkey}: {exc}", file=sys.stderr)
        return 2
    return 0


def _demo(args: argparse.Namespace) -> int:
    from node.cli.demo import run_demo

    return run_demo(count=args.count, data_dir=args.data_dir, serve=args.serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zkxai", description="Attested, explained and proven ML inference.")
    sub = parser.add_subparsers(dest="command", required=True)

    node = sub.add_parser("node", help="the attestation node: run (default), init, status")
    node_sub = node.add_subparsers(dest="node_command", required=True)
    p = node_sub.add_parser("run", help="run the node (HTTP API); flags override the config file and environment")
    p.add_argument("--config", type=Path, default=None, help="TOML config (zkxai node init writes one)")
    p.add_argument("--secrets", type=Path, default=None, help="secrets TOML (default: secrets.toml beside --config)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--data-dir", type=Path, default=None, help="default var/node")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir)")
    p.add_argument("--rpc-url", default=None, help="Ethereum JSON-RPC URL (default: embedded in-process EVM)")
    p.add_argument("--registry", default=None,
                   help="existing AttestationRegistry address (default: the one this node deployed on this chain "
                        "earlier, remembered in its database; else deploy one)")
    p.add_argument("--redeploy", action="store_true",
                   help="deploy new registries although this node recorded deployments on this chain (after a chain "
                        "reset); replaces the records")
    p.add_argument("--confirmations", type=int, default=None,
                   help="blocks on top of an attestation before it is final (default 1; reorgs re-submit)")
    p.add_argument("--prover-workers", type=int, default=None,
                   help=f"prover processes (default 1; this machine: {os.cpu_count()} cores)")
    p.add_argument("--attestation-mode", choices=("single", "batch"), default=None,
                   help="one proof + transaction per prediction (single, default) or per batch of predictions")
    p.add_argument("--batch-size", type=int, default=None, help="batch mode: slots per batch, power of two 2..64 (default 8)")
    p.add_argument("--batch-latency-ms", type=int, default=None,
                   help="batch mode: longest wait for a batch to fill (default 5000)")
    p.add_argument("--batch-registry", default=None,
                   help="batch mode: existing BatchAttestationRegistry address (default: the one this node deployed "
                        "on this chain for this batch size, else deploy one)")
    p.add_argument("--log-format", choices=("json", "text"), default="json")
    p.set_defaults(func=_node)
    p = node_sub.add_parser("init", help="write a commented config, a secrets file and an encrypted keystore")
    p.add_argument("--dir", type=Path, default=Path("zkxai-node"))
    p.add_argument("--network", choices=("local", "sepolia", "mainnet", "base"), default="local",
                   help="preset chain id, confirmations, fee policy and explorer (node.networks)")
    p.set_defaults(func=_node_init)
    p = node_sub.add_parser("status", help="print a running node's health")
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_node_status)

    keys = sub.add_parser("keys", help="circuit keys: export the circuit for a snarkjs ceremony, import its zkey")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    p = keys_sub.add_parser("export-r1cs", help="write the commitment circuit as a circom/snarkjs .r1cs")
    p.add_argument("out", type=Path, metavar="OUT.r1cs")
    p.add_argument("--classes", type=int, default=10, help="class slots of the circuit (prover.circuit_classes)")
    p.set_defaults(func=_keys_export_r1cs)
    p = keys_sub.add_parser("import-zkey", help="use a snarkjs ceremony .zkey as the node's commitment keys")
    p.add_argument("zkey", type=Path, metavar="FILE.zkey")
    p.add_argument("--classes", type=int, default=10, help="class slots of the circuit (prover.circuit_classes)")
    p.add_argument("--data-dir", type=Path, default=Path("var/node"), help="the node's data dir (keys go in DATA_DIR/keys)")
    p.add_argument("--force", action="store_true", help="replace existing commitment keys")
    p.set_defaults(func=_keys_import_zkey)

    p = sub.add_parser("verify", help="verify an attestation end to end (proof, on-chain record, disclosure)")
    verify_cli.add_arguments(p)
    p.set_defaults(func=verify_cli.run)

    trust = sub.add_parser("trust", help="trust files for verifiers: a node's claimed entry, a key's digest")
    trust_sub = trust.add_subparsers(dest="trust_command", required=True)
    p = trust_sub.add_parser("show", help="print the [[node]] entries a node claims in /v1/info, its proven-level "
                             "registries included (check them out of band "
                             "before pinning them)")
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--name", help="entry name (default: the node's host:port)")
    p.set_defaults(func=_trust_show)
    p = trust_sub.add_parser("digest", help="print vk_sha256 of a snarkjs verification_key.json (for a trust file)")
    p.add_argument("vkey", type=Path, metavar="VK.json")
    p.set_defaults(func=_trust_digest)

    p = sub.add_parser("show", help="render a disclosure bundle")
    p.add_argument("bundle", type=Path)
    p.add_argument("--png", type=Path, help="write the explanation heatmap to this PNG file")
    p.add_argument("--image-shape", help="view a flat input as an image, e.g. 8x8 (digits)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_show)

    p = sub.add_parser("demo", help="train a digits model, run a node on an embedded EVM, attest and verify predictions")
    p.add_argument("--count", type=int, default=4, help="number of predictions to attest")
    p.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    p.add_argument("--serve", action="store_true", help="keep the node serving after the demo (explorer, console) "
                   "until Ctrl-C")
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["node"] and (len(argv) == 1 or argv[1] not in {"run", "init", "status", "-h", "--help"}):
        argv.insert(1, "run")  # `zkxai node [flags]` = `zkxai node run [flags]`
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
