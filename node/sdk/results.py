"""What ``predict`` returns: a typed, frozen view of the node's attested result.

``Prediction`` holds what the proof covers (model hash, class, scores, explanation digests: see the README's
"What an attestation proves") beside what the node measured and did *not* prove (``confidence``,
``trust_score``, ``hallucination_risk``: the ``assessment`` section of the bundle).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from explainers.encoding import SCALE_BITS


@dataclass(frozen=True)
class Verification:
    """The verdict of the checks ``zkxai verify`` runs (``VALID`` / ``INVALID`` / ``UNPINNED`` / ``ERROR``)."""

    verdict: str
    exit_code: int
    checks: tuple[Mapping[str, Any], ...]
    report: Mapping[str, Any] = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.verdict == "VALID" and self.exit_code == 0

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict} (exit {self.exit_code})"]
        lines += [f"  [{str(c.get('status', 'ok' if c.get('ok') else 'fail')).upper()}] {c.get('name')}: "
                  f"{c.get('detail', '')}" for c in self.checks]
        if "error" in self.report:
            lines.append(f"  error: {self.report['error']}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Explanation:
    """The attested explanation: ``values`` (float64, the input's shape) as committed (fixed point, 2**-16)."""

    method: str
    values: np.ndarray = field(repr=False)
    input: np.ndarray = field(repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def png(self, *, scale: int | None = None, feature_names: list[str] | None = None) -> bytes:
        """A heatmap over the input for images ((H, W), (C, H, W)); a bar chart of the largest attributions
        (tokens, features) otherwise."""
        from explainers.render import render_bar_chart, render_image_overlay

        if self.values.ndim in (2, 3) and min(self.values.shape[-2:]) >= 4:
            size = max(self.values.shape[-2:])
            return render_image_overlay(self.input, self.values, scale=scale or max(1, min(16, 256 // size)))
        return render_bar_chart(self.values, feature_names)

    def save_png(self, path: str | Path, **kwargs: Any) -> Path:
        out = Path(path)
        out.write_bytes(self.png(**kwargs))
        return out

    def show(self, **kwargs: Any) -> Any:
        """Display the heatmap: inline in a notebook (IPython), else in the system's image viewer."""
        png = self.png(**kwargs)
        try:
            from IPython.display import Image as IPythonImage  # type: ignore[import-not-found]
            from IPython.display import display

            return display(IPythonImage(data=png))
        except ImportError:
            import io

            from PIL import Image

            Image.open(io.BytesIO(png)).show()
            return None


@dataclass(frozen=True)
class Prediction:
    """One attested prediction. ``verify()`` re-checks it end to end with this node's registry and attester pinned."""

    prediction: int
    confidence: float | None
    trust_score: float | None
    hallucination_risk: float | None
    scores: tuple[float, ...]
    explanation: Explanation
    attestation_id: str
    chain: str
    transaction: str | None
    block_number: int | None
    model_hash: str
    request_id: str
    #: What the proof covers: "commitment", "inference" or "explanation" (README "Proof levels").
    level: str
    disclosure: Mapping[str, Any] = field(repr=False)
    result: Mapping[str, Any] = field(repr=False)
    _verify: Callable[[Prediction], Verification] = field(repr=False, compare=False)

    def verify(self) -> Verification:
        return self._verify(self)

    def save_disclosure(self, path: str | Path) -> Path:
        """The disclosure bundle (for ``zkxai verify --disclosure``)."""
        out = Path(path)
        out.write_text(json.dumps(dict(self.disclosure), indent=1) + "\n")
        return out

    @property
    def zk_proof(self) -> Mapping[str, Any]:
        """The Groth16 proof (snarkjs JSON) and its public inputs, as the bundle carries them."""
        return {"proof": self.disclosure.get("proof"), "public_inputs": self.disclosure.get("public_inputs")}


def explanation_of(disclosure: Mapping[str, Any]) -> Explanation:
    expl, inp = disclosure["explanation"], disclosure["input"]
    scale = float(1 << SCALE_BITS)
    values = np.asarray(expl["values"], dtype=np.float64).reshape(expl["shape"]) / scale
    x = np.asarray(inp["values"], dtype=np.float64).reshape(inp["shape"]) / scale
    return Explanation(method=str(expl["method"]), values=values, input=x)


def prediction_of(result: Mapping[str, Any], chain: str, disclosure: Mapping[str, Any],
                  verify: Callable[[Prediction], Verification]) -> Prediction:
    trust = (result.get("assessment") or {}).get("trust") or {}
    record = next((c for c in result.get("chains", ()) if c.get("chain") == chain), None)
    tx = result.get("tx_hash") if chain == "ethereum" or record is None else record.get("tx_id") or record.get("tx_hash")
    return Prediction(
        prediction=int(result["predicted_class"]),
        confidence=_opt(trust.get("confidence")),
        trust_score=_opt(trust.get("trust_score")),
        hallucination_risk=_opt(trust.get("hallucination_risk")),
        scores=tuple(float(s) for s in result.get("scores", ())),
        explanation=explanation_of(disclosure),
        attestation_id=str(disclosure.get("attestation_id", result["attestation_id"])),
        chain=chain,
        transaction=tx,
        block_number=result.get("block_number") if chain == "ethereum" else (record or {}).get("height"),
        model_hash=str(result["model_hash"]),
        request_id=str(result["request_id"]),
        level=str(disclosure.get("level") or result.get("level") or "commitment"),
        disclosure=disclosure,
        result=result,
        _verify=verify,
    )


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
