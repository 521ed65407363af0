"""The Python SDK (node.sdk) end to end: wrap -> predict -> verify on a real (embedded or loopback) node with the
in-process EVM and real Groth16 proofs; typed errors; async variants; a tampered result fails verification."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from explainers.digits import digits_samples, export_onnx, train_digits_mlp
from node.sdk import ModelRejected, Prediction, RequestRejected, SdkError, wrap
from node.sdk import runtime
from node.sdk.client import NodeClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits() -> tuple[bytes, np.ndarray, np.ndarray]:
    module, _ = train_digits_mlp(seed=0)
    x, y = digits_samples(200, split="train")
    return export_onnx(module, (64,)), x, y


@pytest.fixture(scope="module")
def wrapped(digits, tmp_path_factory):
    data, x, y = digits
    return wrap(data, name="digits", calibration=(x, y), data_dir=tmp_path_factory.mktemp("sdk-node"))


def test_predict_gives_a_verified_attestation(wrapped, digits, tmp_path: Path) -> None:
    xt, yt = digits_samples(2, split="test")
    result = wrapped.predict(xt[0])
    assert isinstance(result, Prediction)
    assert result.prediction == int(np.argmax(result.scores)) and result.chain == "ethereum"
    assert result.attestation_id.startswith("0x") and result.transaction and result.block_number >= 1
    assert 0.0 <= result.confidence <= 1.0 and result.trust_score is not None and result.hallucination_risk is not None
    assert result.explanation.method == "lrp_epsilon_0_1" and result.explanation.shape == (64,)
    assert result.zk_proof["proof"]["protocol"] == "groth16"
    verdict = result.verify()
    assert verdict.ok, str(verdict)
    names = {c["name"] for c in verdict.checks}
    assert {"record", "attester", "proof", "model", "disclosure"} <= names
    png = result.explanation.save_png(tmp_path / "expl.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_tampered_result_fails_verification(wrapped) -> None:
    xt, _ = digits_samples(1, split="test")
    result = wrapped.predict(xt[0])
    forged = copy.deepcopy(dict(result.disclosure))
    forged["prediction"]["predicted_class"] = (forged["prediction"]["predicted_class"] + 1) % 10
    verdict = dataclasses.replace(result, disclosure=forged).verify()
    assert verdict.verdict == "INVALID" and not verdict.ok
    failed = {c["name"] for c in verdict.checks if not c["ok"]}
    assert "disclosure" in failed


def test_another_model_file_fails_the_model_check(wrapped) -> None:
    xt, _ = digits_samples(1, split="test")
    result = wrapped.predict(xt[0])
    other, _ = train_digits_mlp(seed=1)
    impostor = copy.copy(wrapped)
    impostor._model_bytes = export_onnx(other, (64,))
    verdict = impostor._verify_sync(result)
    assert not verdict.ok and {c["name"] for c in verdict.checks if not c["ok"]} == {"model"}


def test_predict_batch_and_async(wrapped) -> None:
    xt, yt = digits_samples(3, split="test")
    results = wrapped.predict_batch(xt, progress=False)
    assert [r.prediction for r in results] == [int(np.argmax(r.scores)) for r in results]
    assert len({r.attestation_id for r in results}) == 3

    async def service() -> Prediction:
        return await wrapped.apredict(xt[0], method="gradient_x_input")

    done = asyncio.run(service())
    assert done.explanation.method == "gradient_x_input" and done.verify().ok


def test_typed_errors(wrapped, digits) -> None:
    data, _, _ = digits
    with pytest.raises(SdkError, match="unknown|Unknown"):
        wrapped.predict(np.zeros(64), method="no_such_method")
    with pytest.raises(RequestRejected) as bad_shape:
        wrapped.predict(np.zeros(63))
    assert bad_shape.value.status == 400
    with pytest.raises(SdkError, match="embedded node has only the in-process EVM"):
        wrap(data, chain="aleo")
    with pytest.raises(SdkError, match="chain must be one of"):
        wrap(data, chain="solana")
    with pytest.raises(SdkError, match="torch.nn.Module"):
        wrap(12345)
    with pytest.raises(RequestRejected) as refused:
        wrap(b"not a model at all", node=wrapped.node_url)
    assert refused.value.status == 422 and isinstance(refused.value, ModelRejected)


def test_a_remote_node_with_an_api_key(digits, tmp_path: Path) -> None:
    """node="http://..." with api_key: the SDK talks HTTP to a node that requires a key (here one on loopback;
    registering a model needs the node's admin key)."""
    from aiohttp import web

    from node.api.app import build_app
    from node.config import NodeConfig

    async def start() -> tuple[web.AppRunner, str]:
        config = NodeConfig(port=0, data_dir=tmp_path, admin_key="sdk-admin-key-0123456789",
                            prover_backend="threads")
        runner = web.AppRunner(build_app(config))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

    runner, url = runtime.call(start())
    try:
        data, _, _ = digits
        with pytest.raises(RequestRejected) as denied:
            wrap(data, node=url)
        assert denied.value.status == 401
        remote = wrap(data, node=url, api_key="sdk-admin-key-0123456789", methods=["gradient"], rpc_url=url + "/rpc")
        xt, _ = digits_samples(1, split="test")
        result = remote.predict(xt[0])
        assert result.trust_score is None and result.confidence is not None  # not calibrated: confidence only
        assert result.verify().ok
    finally:
        runtime.call(runner.cleanup())


def test_the_embedded_node_still_proves_after_another_node_ran_in_the_process(wrapped) -> None:
    """Two nodes with prover threads in one process (the embedded one and the remote-node test's) each prove with
    their own key: a pool holding the other node's key would make the registry revert InvalidProof."""
    xt, _ = digits_samples(1, split="test")
    assert wrapped.predict(xt[0]).verify().ok


def test_a_node_that_cannot_be_reached() -> None:
    client = NodeClient("http://127.0.0.1:9")
    try:
        with pytest.raises(SdkError, match="cannot reach"):
            runtime.call(client.info())
    finally:
        runtime.call(client.close())


def test_a_proven_explanation_through_the_sdk(digits) -> None:
    """level="explanation": the node quantizes the model, proves the prediction *and* the LRP attribution with the
    model's own circuit, and verify() pins the model's registry at that level."""
    data, _, _ = digits
    proven = wrap(data, name="digits-proven", level="explanation", methods=["lrp_epsilon_0_1"])
    xt, _ = digits_samples(1, split="test")
    result = proven.predict(xt[0])
    assert result.level == "explanation" and proven.model["proven"]["level"] == "explanation"
    verdict = result.verify()
    assert verdict.ok, str(verdict)
    assert any(c["name"] == "level" and c["ok"] for c in verdict.checks)
    forged = copy.deepcopy(dict(result.disclosure))
    forged["explanation"]["values"][0] += 1
    assert dataclasses.replace(result, disclosure=forged).verify().verdict == "INVALID"
    with pytest.raises(SdkError, match="level explanation for 'lrp_epsilon_0_1' only"):
        proven.predict(xt[0], method="gradient")
