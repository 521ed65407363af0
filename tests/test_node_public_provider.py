"""A whole `zkxai node` process (real prover) behind :mod:`tests.provider_double` (a TEST DOUBLE of a public
provider: block-range cap, result cap, rate limit with HTTP 429 + Retry-After) in front of anvil with 2 s blocks and a
history numbered past 100,000 (:mod:`tests.anvil_history`: a genesis at block 100,000 plus ~2,000 mined blocks; the
blocks below the genesis do not exist).

One combined test (one node's key setup, one anvil):

1. the node deploys its registry through the double and attests predictions;
2. it is stopped, its rows are set back to ``proved`` without a transaction (a crash between mining and storing, as in
   ``test_node_faults``), more blocks are mined, and it restarts with the registry configured by address only: it
   finds the registry's deployment block (binary search over eth_getCode through the double), finds its existing
   records (isAttested + eth_getLogs at the record's block) and adopts them without sending, then attests more;
3. the signer is emptied (``anvil_setBalance``): ``/readyz`` answers 503 with the ``signer`` reason, the request stays
   ``proved`` (not failed); once funded it is attested.

Every refusal of the double (429s) is absorbed by the node's provider: no request fails, no submission is retried.
The node's lookups are point lookups at the record's block (one block, one result), so the range and result caps are
not met at node level; the windowed scan that meets them is tested in ``test_chain_public_provider``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from web3 import Web3

from contracts import abi
from tests.anvil_history import ANVIL_ADDRESS, GENESIS_BLOCK, rpc, running_history_anvil
from tests.node_harness import ANVIL_KEY, http, post_json, running_node, wait_status
from tests.provider_double import ProviderDouble, ProviderLimits

pytestmark = [pytest.mark.npm, pytest.mark.slow]
ENV = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_CHAIN_LOGS_WINDOW_BLOCKS": "400", "ZKXAI_CHAIN_RPC_MAX_ATTEMPTS": "12"}


def _model(base: str) -> str:
    from explainers.digits import export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
    assert status in (200, 201), model
    return str(model["model_hash"])


def _submit(base: str, model_hash: str, samples: range) -> list[str]:
    from explainers.digits import digits_samples

    X, _ = digits_samples(samples.stop, split="test")
    ids = []
    for i in samples:
        status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": model_hash, "input": X[i].tolist(),
                                                                 "method": "gradient"})
        assert status == 202, accepted
        ids.append(str(accepted["request_id"]))
    return ids


def _attested(base: str, ids: list[str]) -> dict[str, dict]:
    rows = {i: wait_status(base, i, {"attested", "failed"}, timeout=240) for i in ids}
    assert {r["status"] for r in rows.values()} == {"attested"}, rows
    return rows


def _metric(base: str, prefix: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    return sum(float(x.split()[-1]) for x in lines if x.startswith(prefix))


def _events(url: str, registry: str) -> list[str]:
    w3 = Web3(Web3.HTTPProvider(url))
    c = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi("AttestationRegistry"))
    return ["0x" + bytes(e["args"]["id"]).hex() for e in c.events.Attested().get_logs(from_block=GENESIS_BLOCK)]


def _ready_again(base: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while http("GET", f"{base}/readyz")[0] != 200:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _nonce(url: str) -> int:
    return int(str(rpc(url, "eth_getTransactionCount", ANVIL_ADDRESS, "latest")), 16)


def test_node_behind_a_public_provider_restarts_finds_its_records_and_stops_when_unfunded(tmp_path: Path) -> None:
    work = tmp_path / "node"
    work.mkdir()
    limits = ProviderLimits(max_range=500, max_results=1, rate_per_s=5, burst=3, retry_after=0.3)
    with running_history_anvil(tmp_path, "--block-time", "2") as anvil:
        double = ProviderDouble(anvil, limits)
        with double as url:
            rpc(anvil, "anvil_mine", hex(1_500))
            box = _run(anvil, url, work, double)
    ids = box["ids"]
    refusals = double.stats["rate_limited"] + double.stats["range_refused"] + double.stats["results_refused"]
    print(f"\n[provider double] requests {double.stats['requests']}, refusals absorbed {refusals} "
          f"(429: {double.stats['rate_limited']}, range: {double.stats['range_refused']}, results: "
          f"{double.stats['results_refused']}), eth_getLogs {double.stats['method:eth_getLogs']}, eth_getCode "
          f"{double.stats['method:eth_getCode']}; failed lookups / submit retries {box['retries']}, signer stops "
          f"{box['unfunded']}")
    assert len(set(ids)) == 6 and sorted(box["onchain"]) == sorted(ids)  # each attested exactly once
    assert double.stats["rate_limited"] > box["refused_before"] > 0  # 429s met in both runs ...
    assert box["retries"] == 0  # ... and none surfaced as a failed lookup or submission
    assert box["unfunded"] == 1
    assert f"was deployed at block {box['deployed_at']}" in box["log"]
    assert min(double.log_starts) > GENESIS_BLOCK


def _run(anvil: str, url: str, work: Path, double: ProviderDouble) -> dict:
    """Steps 1-3 of the module docstring against the running anvil and double."""
    # 1. attest through the double
    with running_node(work, "--rpc-url", url, env=ENV) as base:
        info = http("GET", f"{base}/v1/info")[1]
        registry = info["registry"]
        model = _model(base)
        first = _attested(base, _submit(base, model, range(0, 3)))
        failures = _metric(base, "zkxai_failures_total")
    assert failures == 0
    with sqlite3.connect(work / "zkxai.db") as db:
        [(deployed_at,)] = db.execute("select block from deployments where kind = 'registry'").fetchall()

    # 2. a crash between mining and storing, more history, a restart attached by address only
    with sqlite3.connect(work / "zkxai.db") as db:
        db.execute("update attestations set status = 'proved', tx_hash = null where request_id in (?, ?, ?)",
                   tuple(first))
    rpc(anvil, "anvil_mine", hex(600))
    nonce = _nonce(anvil)
    refused_before = double.stats["rate_limited"]
    with running_node(work, "--rpc-url", url, "--registry", registry, env=ENV) as base:
        again = _attested(base, list(first))
        assert _nonce(anvil) == nonce  # adopted, nothing sent
        assert {i: r["tx_hash"] for i, r in again.items()} == {i: r["tx_hash"] for i, r in first.items()}
        more = _attested(base, _submit(base, model, range(3, 5)))

        # 3. an empty signer stops submission with a reason; funded, it goes on
        rpc(anvil, "anvil_setBalance", ANVIL_ADDRESS, hex(10**9))
        [waiting] = _submit(base, model, range(5, 6))
        wait_status(base, waiting, {"proved"}, timeout=120)
        deadline = time.monotonic() + 60
        while True:
            status, ready = http("GET", f"{base}/readyz")
            if status == 503 and ready["checks"].get("signer", "ok") != "ok":
                break
            assert time.monotonic() < deadline, ready
            time.sleep(0.5)
        assert "fund the signer" in ready["checks"]["signer"] and ready["checks"]["chain"] == "ok", ready
        time.sleep(3)
        assert http("GET", f"{base}/v1/attestations/{waiting}")[1]["status"] == "proved"
        rpc(anvil, "anvil_setBalance", ANVIL_ADDRESS, hex(10**22))
        last = _attested(base, [waiting])
        assert _ready_again(base)
        retries = _metric(base, 'zkxai_failures_total{chain="ethereum",stage="submit_retry"}')
        unfunded = _metric(base, 'zkxai_failures_total{chain="ethereum",stage="signer_unfunded"}')
        onchain = _events(anvil, registry)
    log = (work / "node.log").read_text()
    ids = [r["attestation_id"] for r in (*first.values(), *more.values(), *last.values())]
    return {"ids": ids, "onchain": onchain, "retries": retries, "unfunded": unfunded, "log": log,
            "deployed_at": deployed_at, "refused_before": refused_before}
