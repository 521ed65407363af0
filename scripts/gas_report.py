#!/usr/bin/env python3
"""Gas table of zkxai's contracts, all measured in one run on one chain.

    .venv/bin/python scripts/gas_report.py                       in-process chain (eth-tester, py-evm; ~1 min)
    .venv/bin/python scripts/gas_report.py --rpc-url URL [--private-key KEY]   e.g. anvil (default: anvil key 0)
    .venv/bin/python scripts/gas_report.py --json                machine-readable rows

Proofs are real: the commitment circuit (``--classes`` slots, development setup) proven by ``prover``. Every
figure is a mined transaction's ``gasUsed`` (21,000 base + calldata + execution), except where noted.
``verifyProof`` is measured as a transaction to the (view) function, so it also includes base and calldata
costs; its "execution" column subtracts them. Needs the npm EAS package (``npm ci``) for the EAS rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from circuits.commitment import CommitmentOpening, commitment_circuit, commitment_witness, public_inputs  # noqa: E402
from prover.prove import prove  # noqa: E402
from prover.setup import setup  # noqa: E402
from prover.solidity import proof_calldata, vk_calldata  # noqa: E402

#: anvil's first default account (well-known test mnemonic).
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@dataclass(frozen=True)
class Row:
    operation: str
    gas: int | None
    note: str = ""


def _intrinsic(data: bytes) -> int:
    """Base + calldata gas of a call transaction (EIP-2028: 4 per zero byte, 16 per non-zero byte)."""
    return 21_000 + sum(4 if b == 0 else 16 for b in data)


def _opening(seed: int, classes: int) -> CommitmentOpening:
    rng = random.Random(seed)
    scores = tuple(rng.randrange(-(2**20), 2**20) for _ in range(classes))
    return CommitmentOpening(
        model_hash=rng.randbytes(32),
        input_hash=rng.getrandbits(248),
        input_salt=rng.getrandbits(250),
        scores=scores,
        predicted_class=max(range(classes), key=scores.__getitem__),
        prediction_salt=rng.getrandbits(250),
        explanation_hash=rng.getrandbits(248),
        explanation_salt=rng.getrandbits(250),
    )


async def measure(rpc_url: str | None, private_key: str, classes: int, log: bool) -> tuple[str, list[Row]]:
    from node.chains.binding import attestation_context
    from node.chains.ethereum import (
        calldata,
        eas,
    )
    from node.chains.ethereum.adapter import (
        EthereumAdapter,
        RevocationReason,
    )

    def say(text: str) -> None:
        if log:
            print(f"... {text}", file=sys.stderr, flush=True)

    say(f"setup of the commitment circuit ({classes} classes)")
    circuit = commitment_circuit(classes)
    pk, vk = setup(circuit.r1cs, rng=random.Random(7))

    def bound_proof(seed: int, context: int) -> tuple[tuple[Any, ...], Any]:
        """A statement and its real proof, bound to ``context`` (the registry's or the resolver's)."""
        opening = _opening(seed, classes)
        public = public_inputs(opening, context)
        proof = proof_calldata(prove(pk, circuit.r1cs, commitment_witness(opening, context), rng=random.Random(seed)))
        return (opening.model_hash, public[2], public[3], public[4], public[5]), proof

    adapter = (
        await EthereumAdapter.in_process() if rpc_url is None else await EthereumAdapter.connect(rpc_url, private_key)
    )
    chain = "in-process eth-tester (py-evm)" if rpc_url is None else f"{rpc_url} (chain id {adapter.chain_id})"
    rows: list[Row] = []
    try:
        w3 = adapter.w3

        say("deploy verifier + registry")
        deployment = await adapter.deploy_registry(vk_calldata(vk))
        rows.append(Row("deploy Groth16Verifier", deployment.verifier_gas, "8 IC points (7 public inputs)"))
        rows.append(Row("deploy AttestationRegistry", deployment.registry_gas))

        say("EAS: deploy SchemaRegistry + EAS (npm artifacts) and the resolver")
        eas_contracts = await eas.deploy_eas(adapter)
        resolver = await eas.deploy_resolver(adapter, eas_contracts.eas, deployment.verifier)
        rows.append(Row("deploy ZkxaiEASResolver", resolver.gas_used))
        rows.append(Row("deploy EAS SchemaRegistry + EAS (npm 1.9.0)", eas_contracts.schema_registry_gas + eas_contracts.eas_gas, "EAS's own, for reference"))

        say("2 proofs bound to the registry and this account; registry attest x2 (on-chain pairing)")
        context = attestation_context(adapter.chain_id, deployment.registry, adapter.address)
        (fields1, proof1), (fields2, proof2) = bound_proof(1, context), bound_proof(2, context)
        first = await adapter.attest(*fields1, *proof1)
        second = await adapter.attest(*fields2, *proof2)
        rows.append(Row("registry attest (first ever)", first.gas_used, "includes the counter's 0 -> 1 write"))
        rows.append(Row("registry attest (single)", second.gas_used, "typical: 3 new storage slots"))
        rows.append(Row("registry attest (batched)", None, "n/a: batched attest is future work"))

        say("verifyProof as a transaction")
        verifier = w3.eth.contract(address=deployment.verifier, abi=__import__("contracts").abi("Groth16Verifier"))
        data = verifier.encode_abi(
            "verifyProof", args=[*proof1, [*calldata.public_inputs(*fields1), context]]
        )
        mined = await adapter.send(deployment.verifier, data, 500_000, "verifyProof")
        execution = mined.gas_used - _intrinsic(bytes.fromhex(data[2:]))
        rows.append(Row("verify (verifyProof, tx gasUsed)", mined.gas_used, f"execution only: {execution}"))

        say("revoke + revokeModel")
        revoked = await adapter.revoke(second.id, RevocationReason.MODEL_FAULTY)
        rows.append(Row("revoke (one attestation)", revoked.gas_used))
        model_revoked = await adapter.revoke_model(fields2[0], RevocationReason.MODEL_FAULTY)
        rows.append(Row("revokeModel (whole model)", model_revoked.gas_used))

        say("EAS: register schemas, attest plain and with the resolver")
        plain_schema = await eas.register_schema(adapter, eas_contracts.schema_registry, eas.ZKXAI_SCHEMA)
        zk_schema = await eas.register_schema(adapter, eas_contracts.schema_registry, eas.ZKXAI_SCHEMA, resolver.address)
        eas_fields, eas_proof = bound_proof(3, attestation_context(adapter.chain_id, resolver.address, adapter.address))
        payload = calldata.eas_attestation_data(*eas_fields, calldata.proof_words(*eas_proof))
        plain = await eas.attest(adapter, eas_contracts.eas, plain_schema, payload)
        checked = await eas.attest(adapter, eas_contracts.eas, zk_schema, payload)
        rows.append(Row("EAS attest, plain schema (no resolver)", plain.gas_used, "same 416-byte zkxai data, stored by EAS"))
        rows.append(Row("EAS attest + ZkxaiEASResolver", checked.gas_used, "proof verified by the resolver"))
    finally:
        await adapter.close()
    return chain, rows


def _table(chain: str, rows: list[Row]) -> str:
    width = max(len(r.operation) for r in rows)
    lines = [f"zkxai gas report on {chain}", "", f"{'operation':<{width}}  {'gas':>9}  note", "-" * (width + 40)]
    for r in rows:
        gas = f"{r.gas:>9,}" if r.gas is not None else f"{'n/a':>9}"
        lines.append(f"{r.operation:<{width}}  {gas}  {r.note}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", help="JSON-RPC endpoint (default: an in-process chain)")
    parser.add_argument("--private-key", default=ANVIL_KEY, help="funded account key for --rpc-url (default: anvil's)")
    parser.add_argument("--classes", type=int, default=10, help="class slots of the commitment circuit (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = parser.parse_args(argv)
    started = time.monotonic()
    chain, rows = asyncio.run(measure(args.rpc_url, args.private_key, args.classes, log=not args.json))
    if args.json:
        print(json.dumps({"chain": chain, "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        print(_table(chain, rows))
        print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
