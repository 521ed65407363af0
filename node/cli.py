"""The ``zkxai`` command line: ``node``, ``verify``, ``show``, ``demo``.

``verify`` and ``show`` run on the light install (no torch); ``node`` and ``demo`` need the ``node`` extra.
Heavy modules are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import verify_cli


def _node(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .app import build_app
    from .config import NodeConfig, private_key_from_env
    from .errors import ConfigError

    try:
        config = NodeConfig(host=args.host, port=args.port, data_dir=args.data_dir, database_url=args.database_url,
                            rpc_url=args.rpc_url, private_key=private_key_from_env(), registry=args.registry,
                            prover_workers=args.prover_workers)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(build_app(config), host=config.host, port=config.port, shutdown_timeout=30)
    return 0


def _show(args: argparse.Namespace) -> int:
    from .disclosure import Disclosure
    from .errors import DisclosureError

    try:
        d = Disclosure.load(args.bundle)
    except DisclosureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scores = [s / 65536 for s in d.scores[: d.num_classes]]
    if args.json:
        print(json.dumps({"attestation_id": d.attestation_id, "model_hash": "0x" + d.model_hash.hex(),
                          "predicted_class": d.predicted_class, "scores": scores, "method": d.method}, indent=1))
        return 0
    print(f"attestation   {d.attestation_id}")
    if d.chain:
        print(f"chain         {d.chain.chain_id}  registry {d.chain.registry}  tx {d.chain.tx_hash}  block {d.chain.block_number}")
    print(f"model         0x{d.model_hash.hex()}")
    print(f"prediction    class {d.predicted_class}   logits " + " ".join(f"{s:+.2f}" for s in scores))
    print(f"explanation   {d.method}, shape {list(d.explanation_shape)}")
    values = [v / 65536 for v in d.explanation_values]
    top = sorted(range(len(values)), key=lambda i: -abs(values[i]))[:8]
    print("              top features: " + ", ".join(f"#{i}={values[i]:+.3f}" for i in top))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(count=args.count, data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zkxai", description="Attested, explained and proven ML inference.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("node", help="run the attestation node (HTTP API)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", type=Path, default=Path("var/node"))
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir)")
    p.add_argument("--rpc-url", default=None, help="Ethereum JSON-RPC URL (default: embedded in-process EVM)")
    p.add_argument("--registry", default=None, help="existing AttestationRegistry address (default: deploy one)")
    p.add_argument("--prover-workers", type=int, default=max(1, min(4, (os.cpu_count() or 2) - 1)))
    p.set_defaults(func=_node)

    p = sub.add_parser("verify", help="verify an attestation end to end (proof, on-chain record, disclosure)")
    verify_cli.add_arguments(p)
    p.set_defaults(func=verify_cli.run)

    p = sub.add_parser("show", help="render a disclosure bundle")
    p.add_argument("bundle", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_show)

    p = sub.add_parser("demo", help="train a digits model, run a node on an embedded EVM, attest and verify predictions")
    p.add_argument("--count", type=int, default=4, help="number of predictions to attest")
    p.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
