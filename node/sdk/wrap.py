"""``wrap(model, ...)``: a model registered with a node (embedded or remote), ready to ``predict``.

A ``torch.nn.Module`` is exported with ``torch.export`` to a ``.pt2`` program (no pickle: see the README's
"PyTorch models"), an ONNX or ``.pt2`` file (path or bytes) is sent as is; the node hashes what it receives, and
``Prediction.verify()`` checks the attested model hash against these very bytes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from node.sdk import runtime
from node.sdk.client import NodeClient
from node.sdk.embedded import EmbeddedNode, start_embedded
from node.sdk.errors import AttestationFailed, SdkError
from node.sdk.results import Prediction, Verification, prediction_of

CHAINS = ("ethereum", "aleo", "icp")
LEVELS = ("commitment", "inference", "explanation")
DEFAULT_METHODS = ("lrp_epsilon_0_1",)
#: Requests a ``predict_batch`` keeps in flight at once.
BATCH_CONCURRENCY = 16
#: How long ``predict`` waits for the record on an extra chain (Aleo, ICP) after the Ethereum one.
TARGET_WAIT_S = 300.0

_embedded: EmbeddedNode | None = None
_embedded_lock: asyncio.Lock | None = None  # created on the SDK loop (see _shared_embedded)


class Wrapped:
    """A registered model. ``predict`` / ``predict_batch`` (and their ``a``-prefixed async variants) attest."""

    def __init__(self, client: NodeClient, info: dict[str, Any], model: dict[str, Any], model_bytes: bytes,
                 *, name: str, chain: str, methods: tuple[str, ...], rpc_url: str | None, vkey: Path | None,
                 explain_quality: bool, level: str = "commitment") -> None:
        self.client, self.info, self.model, self._model_bytes = client, info, model, model_bytes
        self.name, self.chain, self.methods, self.level = name, chain, methods, level
        self.rpc_url, self.vkey, self.quality = rpc_url, vkey, explain_quality

    @property
    def model_hash(self) -> str:
        return str(self.model["model_hash"])

    @property
    def node_url(self) -> str:
        return self.client.url

    def __repr__(self) -> str:
        return (f"Wrapped({self.name!r}, model_hash={self.model_hash}, node={self.node_url}, chain={self.chain!r}, "
                f"level={self.level!r}, methods={list(self.methods)})")

    # -- predictions -----------------------------------------------------------------------------------------
    def predict(self, x: Any, *, method: str | None = None) -> Prediction:
        """Predict, explain, prove and attest one input (one sample, the model's input shape)."""
        return runtime.call(self._predict(x, method))

    async def apredict(self, x: Any, *, method: str | None = None) -> Prediction:
        return await runtime.acall(self._predict(x, method))

    def predict_batch(self, xs: Iterable[Any], *, method: str | None = None, progress: bool | None = None) -> list[Prediction]:
        """Attest every input (concurrently; a node in batch mode groups them into batch proofs). A progress bar
        is shown for more than 8 inputs unless ``progress=False``."""
        items = list(xs)
        return runtime.call(self._predict_batch(items, method, _progress(len(items), progress)))

    async def apredict_batch(self, xs: Iterable[Any], *, method: str | None = None) -> list[Prediction]:
        items = list(xs)
        return await runtime.acall(self._predict_batch(items, method, None))

    async def _predict_batch(self, items: list[Any], method: str | None, bar: Any) -> list[Prediction]:
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(x: Any) -> Prediction:
            async with gate:
                done = await self._predict(x, method)
            if bar is not None:
                bar.update(1)
            return done

        try:
            return list(await asyncio.gather(*(one(x) for x in items)))
        finally:
            if bar is not None:
                bar.close()

    async def _predict(self, x: Any, method: str | None) -> Prediction:
        chosen = method or self.methods[0]
        _check_method(chosen)
        if self.level == "explanation" and chosen != self.methods[0]:
            raise SdkError(f"this model is proven at level explanation for {self.methods[0]!r} only (its circuit "
                           f"computes that method); wrap it again with methods=[{chosen!r}] for another")
        result = await self.client.attest(self.model_hash, x, chosen, quality=self.quality, level=self.level)
        if result.get("status") != "attested":
            raise AttestationFailed(f"request {result.get('request_id')} ended {result.get('status')}: "
                                    f"{result.get('error', 'no reason given')}")
        if self.chain == "ethereum":
            disclosure = result["disclosure"]
        else:
            result = await self._wait_for_target(result)
            disclosure = await self.client.disclosure(result["request_id"], self.chain)
        return prediction_of(result, self.chain, disclosure, self._verify_sync)

    async def _wait_for_target(self, result: dict[str, Any]) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + TARGET_WAIT_S
        while True:
            record = next((c for c in result.get("chains", ()) if c.get("chain") == self.chain), None)
            if record is None:
                raise SdkError(f"the node does not submit to {self.chain} (its [chains] targets do not include it)")
            if record["status"] == "attested":
                return result
            if record["status"] == "failed":
                raise AttestationFailed(f"the {self.chain} record failed: {record.get('error', 'no reason given')}")
            if asyncio.get_running_loop().time() > deadline:
                raise AttestationFailed(f"no {self.chain} record after {TARGET_WAIT_S:g} s (status {record['status']})")
            await asyncio.sleep(0.5)
            _, result = await self.client._call("GET", f"/v1/attestations/{result['request_id']}")

    # -- verification ----------------------------------------------------------------------------------------
    def _verify_sync(self, prediction: Prediction) -> Verification:
        """``zkxai verify`` on the prediction, pinning the registry and attester this node reports (the node the
        user chose to wrap with), with the model bytes sent at registration as ``--model``."""
        from node.verify.command import verify_json

        with tempfile.TemporaryDirectory(prefix="zkxai-verify-") as tmp:
            bundle = prediction.save_disclosure(Path(tmp) / "disclosure.json")
            model_file = Path(tmp) / ("model.pt2" if self._model_bytes[:2] == b"PK" else "model.onnx")
            model_file.write_bytes(self._model_bytes)
            argv = ["--disclosure", str(bundle), "--model", str(model_file), "--chain", self.chain]
            argv += self._pins(prediction)
            rpc = self.rpc_url or (self.client.url + self.info["rpc_path"] if self.info.get("rpc_path") and
                                   self.chain == "ethereum" else None)
            if rpc is None:
                raise SdkError(f"verify() needs the {self.chain} endpoint to read the record from: "
                               "wrap(..., rpc_url=...)")
            argv += ["--rpc-url", rpc]
            if self.vkey is not None:
                argv += ["--vkey", str(self.vkey)]
            code, report = verify_json(argv)
        return Verification(verdict=str(report.get("verdict")), exit_code=code,
                            checks=tuple(report.get("checks", ())), report=report)

    def _pins(self, prediction: Prediction) -> list[str]:
        if self.chain == "ethereum":
            proven = self.model.get("proven")
            if proven:  # the model's own registry, whose key is the circuit of this model at this level
                level = proven["level"] + (f":{proven['method']}" if proven.get("method") else "")
                return ["--chain-id", str(self.info["chain_id"]), "--registry", str(proven["registry"]),
                        "--attester", str(self.info["attester"]), "--level", level]
            return ["--chain-id", str(self.info["chain_id"]), "--registry", str(self.info["registry"]),
                    "--attester", str(self.info["attester"])]
        record = next(c for c in prediction.result.get("chains", ()) if c.get("chain") == self.chain)
        return ["--registry", str(record["registry"]), "--attester", str(record["attester"])]

    def verify(self, prediction: Prediction) -> Verification:
        return prediction.verify()


def wrap(model: Any, *, name: str | None = None, chain: str = "ethereum", methods: Sequence[str] = DEFAULT_METHODS,
         node: str | None = None, api_key: str | None = None, example_input: Any = None,
         input_shape: Sequence[int] | None = None, calibration: tuple[Any, Any] | None = None,
         rpc_url: str | None = None, vkey: str | Path | None = None, explain_quality: bool = False,
         data_dir: str | Path | None = None, level: str = "commitment") -> Wrapped:
    """Register ``model`` with a node and return a :class:`Wrapped` ready to predict.

    ``model``: a ``torch.nn.Module`` (exported to ``.pt2``; needs ``example_input`` — one sample — or
    ``input_shape``), or an ONNX / ``.pt2`` file as a path or bytes. ``node``: None starts (once per process) an
    embedded node with the in-process EVM; a URL uses that node (``api_key`` for its API). ``chain``: where
    ``predict`` reads the record (``"ethereum"``; ``"aleo"`` / ``"icp"`` when the node submits there too).
    ``methods``: explanation methods, the first is the default of ``predict``. ``calibration``: ``(inputs,
    labels)`` from the training set, to fit the node's out-of-distribution calibration (``trust_score`` and
    ``hallucination_risk`` need it; without it only ``confidence``). ``rpc_url``: the chain endpoint
    ``verify()`` reads (default: the embedded node's ``/rpc``); ``vkey``: a published verification key to pin.
    ``level``: ``"commitment"`` (default), ``"inference"`` (the proof shows the quantized model computed the scores)
    or ``"explanation"`` (and that the attribution is ``methods[0]``'s: gradient, gradient_x_input or
    lrp_epsilon_<v>); proven levels need a model of dense/conv/ReLU/pooling layers (else ModelRejected, 422).
    """
    return runtime.call(_awrap(model, name=name, chain=chain, methods=methods, node=node, api_key=api_key,
                               example_input=example_input, input_shape=input_shape, calibration=calibration,
                               rpc_url=rpc_url, vkey=vkey, explain_quality=explain_quality, data_dir=data_dir,
                               level=level))


async def awrap(model: Any, **kwargs: Any) -> Wrapped:
    """The async variant of :func:`wrap`."""
    return await runtime.acall(_awrap(model, **kwargs))


async def _awrap(model: Any, *, name: str | None, chain: str, methods: Sequence[str], node: str | None,
                 api_key: str | None, example_input: Any, input_shape: Sequence[int] | None,
                 calibration: tuple[Any, Any] | None, rpc_url: str | None, vkey: str | Path | None,
                 explain_quality: bool, data_dir: str | Path | None, level: str = "commitment") -> Wrapped:
    if chain not in CHAINS:
        raise SdkError(f"chain must be one of {', '.join(CHAINS)}, got {chain!r}")
    if level not in LEVELS:
        raise SdkError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    chosen = tuple(methods)
    if not chosen:
        raise SdkError("give at least one explanation method")
    for m in chosen:
        _check_method(m)
    data, default_name = await asyncio.to_thread(model_bytes, model, example_input, input_shape)
    if node is None:
        if chain != "ethereum":
            raise SdkError(f"the embedded node has only the in-process EVM; to attest on {chain}, run a node with "
                           f"[chains] targets including {chain!r} and pass node='http://...'")
        embedded = await _shared_embedded(Path(data_dir) if data_dir is not None else None)
        client = NodeClient(embedded.url)
    else:
        client = NodeClient(node, api_key)
    try:
        info = await client.info()
        registered = await client.register_model(data, name or default_name, level,
                                                 chosen[0] if level == "explanation" else None)
        if calibration is not None:
            inputs, labels = calibration
            await client.calibrate(registered["model_hash"], list(inputs), None if labels is None else list(labels))
    except BaseException:
        await client.close()
        raise
    runtime.on_exit(client.close)
    return Wrapped(client, info, registered, data, name=name or default_name, chain=chain, methods=chosen,
                   rpc_url=rpc_url, vkey=Path(vkey) if vkey is not None else None, explain_quality=explain_quality,
                   level=level)


async def _shared_embedded(data_dir: Path | None) -> EmbeddedNode:
    """One embedded node per process, started on first use and closed at exit."""
    global _embedded, _embedded_lock
    if _embedded_lock is None:
        _embedded_lock = asyncio.Lock()
    async with _embedded_lock:
        if _embedded is None:
            _embedded = await start_embedded(data_dir)
            runtime.on_exit(_close_embedded)
    return _embedded


async def _close_embedded() -> None:
    global _embedded
    if _embedded is not None:
        await _embedded.close()
        _embedded = None


def model_bytes(model: Any, example_input: Any = None, input_shape: Sequence[int] | None = None) -> tuple[bytes, str]:
    """(the bytes the node registers, a default name) for a module, a path or bytes."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model), "model"
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        return path.read_bytes(), path.stem
    if "torch" in sys.modules and isinstance(model, sys.modules["torch"].nn.Module):
        from explainers.pt2 import export_pt2

        example = _example(example_input, input_shape)
        return export_pt2(model, example), type(model).__name__.lower()
    raise SdkError(f"wrap() takes a torch.nn.Module, or an ONNX / .pt2 file (path or bytes), not {type(model).__name__}")


def _example(example_input: Any, input_shape: Sequence[int] | None) -> Any:
    import torch

    if example_input is not None:
        t = example_input if isinstance(example_input, torch.Tensor) else torch.as_tensor(example_input)
        return t.detach().cpu().unsqueeze(0)  # the program is exported for a batch of one
    if input_shape is None:
        raise SdkError("exporting a torch module needs example_input= (one sample) or input_shape=")
    return torch.zeros((1, *(int(d) for d in input_shape)))


def _check_method(method: str) -> None:
    from explainers.errors import UnknownMethod
    from explainers.methods import parse_method

    try:
        parse_method(method)
    except UnknownMethod as exc:
        raise SdkError(str(exc)) from exc


def _progress(total: int, wanted: bool | None) -> Any:
    if wanted is False or (wanted is None and total <= 8):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextProgress(total)
    return tqdm(total=total, desc="attesting", unit="pred")


class _TextProgress:
    """A minimal progress line on stderr when tqdm is not installed."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def update(self, n: int) -> None:
        self.done += n
        print(f"\rattesting {self.done}/{self.total}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr)
