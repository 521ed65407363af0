"""Pipelined submission at node level: a `zkxai node` (real prover) with ``chain.max_in_flight = 4`` on anvil with 1 s
blocks attests N concurrent requests exactly once each: N ``Attested`` events with N distinct ids, the attestation
transactions' nonces contiguous (no gap, no reuse) and the account's nonce advanced by exactly N; several
attestations share a block (more than one transaction per block). Throughput against a window of 1:
``scripts/bench_submit.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from contracts import abi
from tests.node_harness import ANVIL_KEY, http, post_json, running_anvil, running_node, wait_status

pytestmark = [pytest.mark.npm, pytest.mark.slow]
N = 8


def test_max_in_flight_4_attests_concurrent_requests_exactly_once(tmp_path: Path) -> None:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    X, _ = digits_samples(N, split="test")
    env = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_CHAIN_MAX_IN_FLIGHT": "4"}
    with running_anvil(extra=("--block-time", "1")) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil))
        signer = w3.eth.account.from_key(ANVIL_KEY).address
        with running_node(tmp_path, "--rpc-url", anvil, env=env) as base:
            status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
            assert status == 201, model
            start_nonce = w3.eth.get_transaction_count(signer)
            ids = []
            for x in X:
                status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": model["model_hash"],
                                                                         "input": x.tolist(), "method": "gradient"})
                assert status == 202, accepted
                ids.append(accepted["request_id"])
            rows = [wait_status(base, i, {"attested", "failed"}, timeout=240) for i in ids]
            registry = http("GET", f"{base}/v1/info")[1]["registry"]
        assert {r["status"] for r in rows} == {"attested"}, rows
        contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi("AttestationRegistry"))
        events = contract.events.Attested().get_logs(from_block=0)
        onchain = sorted("0x" + bytes(e["args"]["id"]).hex() for e in events)
        assert onchain == sorted(r["attestation_id"] for r in rows) and len(set(onchain)) == N  # exactly once each
        nonces = sorted(w3.eth.get_transaction(r["tx_hash"])["nonce"] for r in rows)
        assert nonces == list(range(start_nonce, start_nonce + N))  # no gap, no reuse
        assert w3.eth.get_transaction_count(signer) == start_nonce + N
        assert len({r["block_number"] for r in rows}) < N  # several transactions in one block: pipelined
