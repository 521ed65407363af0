"""The disclosure bundle: a versioned JSON file carrying everything a verifier needs for one attestation.

Format ``zkxai.disclosure/3`` (stable; new optional keys may be added, never renamed)::

    {
      "format": "zkxai.disclosure/3",
      "level": "explanation",                     # commitment | inference | explanation (node.verify.levels)
      "model_commitment": "<decimal>",            # proven levels: Poseidon commitment of the quantized weights
      "digests": "circuits.qnet/v1",            # proven levels: how input / explanation digests are recomputed
      "attestation_id": "0x<32 bytes>",
      "chain": {"chain_id": 131277322940537, "registry": "0x..", "attester": "0x..", "tx_hash": "0x..",
                "block_number": 3},          # Aleo / ICP: also "kind" and "network" (see ChainRef)
      "model_hash": "0x<sha256 of the canonical model bytes>",
      "input":       {"shape": [64], "values": [<int>...], "salt": "<decimal>"},
      "prediction":  {"predicted_class": 3, "num_classes": 10, "scores": [<int>...], "salt": "<decimal>"},
      "explanation": {"method": "lrp_epsilon_0_1", "shape": [64], "values": [<int>...], "salt": "<decimal>"},
      "public_inputs": ["<decimal>", ...],        # snarkjs public.json order (circuits.commitment.PUBLIC_INPUTS):
                                                  # the six statement values, then the context
      "proof": {"pi_a": [...], "pi_b": [...], "pi_c": [...], "protocol": "groth16", "curve": "bn128"},
      "assessment": {"trust": {...}, "quality": {...}, "covered_by_proof": false},    # optional
      "batch": {...}                                                                    # optional, batch mode
    }

Batched predictions (node ``pipeline.attestation_mode = "batch"``) carry the optional ``batch`` section::

      "batch": {"registry": "0x<BatchAttestationRegistry>", "batch_id": "0x<keccak256(abi.encode(root, count))>",
                "root": "<decimal>", "count": 2, "size": 8, "index": 1, "leaf": "<decimal>",
                "path": ["<decimal>", ...],          # Merkle siblings from the leaf level up (log2(size) of them)
                "tx_hash": "0x..", "block_number": 7}

and then: ``proof`` is the *batch* proof, for the public inputs ``[root, count, context]`` of
``circuits.batch.batch_circuit(size, classes)``; ``public_inputs`` are this prediction's six statement
values (circuits.commitment.STATEMENT), whose Poseidon hash is ``leaf``;
``attestation_id`` is ``"0x"`` + ``leaf`` as 32-byte big-endian hex (the leaf identifies the prediction; the
registry's ``isAttestedLeaf`` recomputes it from the record); ``chain.registry`` is the batch registry.
Single-mode bundles have no ``batch`` key.

Levels (format 3): at ``commitment`` the digests are :mod:`node.verify.digests` (as in formats 1 and 2, which load
as level ``commitment``). At ``inference`` and ``explanation`` the scores are the quantized model's, exactly as the
circuit computes them (fixed point, 2**16), and the input digest (and at ``explanation`` the explanation digest) is
recomputed with ``circuits.qnet``'s native functions, named by ``digests``
(:func:`node.verify.levels.proven_digests`). The bundle's ``level`` is a claim: ``zkxai verify`` believes a proven
level only when the user pinned it for the record's registry or key.

The context (``node.chains.binding.attestation_context``) is recomputed from ``chain``: chain id, registry and attester.
Formats 2 and 3 require ``chain`` with its ``attester``. Format ``zkxai.disclosure/1`` bundles (made before proofs were
bound to their attester, chain and registry: six public inputs, no attester) still load and verify against the
key they were made with; a verifier says they are unbound.

``values`` and ``scores`` are fixed-point integers (scale 2**16, see ``explainers.encoding``); ``scores``
are exactly the committed vector, padded to the circuit's class count with the int32 minimum.
Salts are secrets: whoever holds the bundle can open the digests, so share it only with whom the
prediction is disclosed to. A bundle without the secret parts ("input"/"prediction"/"explanation")
still lets anyone check the proof and the on-chain record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circuits.commitment import CommitmentOpening, is_argmax, statement_values
from circuits.errors import CircuitError

from node.chains.adapter import CHAIN_KINDS
from node.chains.binding import attestation_context, chain_context
from node.verify.digests import (
    explanation_hash,
    input_hash,
)
from node.errors import (
    DisclosureError,
    NodeError,
)
from node.json_guard import load_file
from node.verify.levels import COMMITMENT, PROVEN_DIGESTS, PROVEN_LEVELS, UnknownLevel, parse_level, proven_digests

FORMAT = "zkxai.disclosure/3"
#: Format 2: as 3 without levels (every format-2 bundle is level ``commitment``).
FORMAT_V2 = "zkxai.disclosure/2"
#: Format 1: the proof's public inputs are the statement alone (not bound to attester, chain or registry).
FORMAT_V1 = "zkxai.disclosure/1"
FORMATS = (FORMAT, FORMAT_V2, FORMAT_V1)


@dataclass(frozen=True)
class ChainRef:
    """Where the statement was attested, and by whom (``attester`` is None only in format-1 bundles).

    ``kind`` is the chain (``ethereum``, ``aleo``, ``icp``). On Ethereum ``chain_id`` is the EVM chain id; on the
    others it is 0 and ``network`` names the instance (Aleo ``testnet`` / ``mainnet``, ICP the hex SHA-256 of the
    replica's root key), ``registry`` is the program id / canister id, ``tx_hash`` the transaction id (Aleo) or the
    request id (ICP), ``block_number`` the height (Aleo) or the record's index (ICP)."""

    chain_id: int
    registry: str
    tx_hash: str
    block_number: int
    attester: str | None = None
    kind: str = "ethereum"
    network: str | None = None

    def context(self) -> int:
        """The context public input a proof attested here by ``attester`` carries (see :mod:`node.chains.binding`)."""
        if self.attester is None:
            raise DisclosureError("the bundle names no attester: its proof is not bound to one (format 1)")
        try:
            if self.kind == "ethereum":
                return attestation_context(self.chain_id, self.registry, self.attester)
            if self.network is None:
                raise ValueError(f"a {self.kind} chain section names its network")
            return chain_context(self.kind, self.network, self.registry, self.attester)
        except ValueError as exc:
            raise DisclosureError(f"chain section: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            **({"kind": self.kind, "network": self.network} if self.kind != "ethereum" else {}),
            "chain_id": self.chain_id,
            "registry": self.registry,
            **({"attester": self.attester} if self.attester is not None else {}),
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
        }


def leaf_id(leaf: int) -> str:
    """The attestation id of a batched prediction: 0x + its Merkle leaf as 32-byte big-endian hex."""
    return "0x" + leaf.to_bytes(32, "big").hex()


@dataclass(frozen=True)
class BatchRef:
    """Where a batched prediction sits: the batch on chain and this prediction's Merkle inclusion path."""

    registry: str
    batch_id: str
    root: int
    count: int
    size: int
    index: int
    leaf: int
    path: tuple[int, ...]
    tx_hash: str
    block_number: int

    def to_json(self) -> dict[str, Any]:
        return {"registry": self.registry, "batch_id": self.batch_id, "root": str(self.root), "count": self.count,
                "size": self.size, "index": self.index, "leaf": str(self.leaf), "path": [str(p) for p in self.path],
                "tx_hash": self.tx_hash, "block_number": self.block_number}

    @classmethod
    def from_json(cls, b: Any) -> BatchRef:
        if not isinstance(b, Mapping):
            raise DisclosureError("batch must be an object")
        _hex32(b["batch_id"], "batch.batch_id")
        path = b["path"]
        if not isinstance(path, Sequence) or isinstance(path, (str, bytes)):
            raise DisclosureError("batch.path must be a list of decimal strings")
        ints = {k: b[k] for k in ("count", "size", "index", "block_number")}
        for k, v in ints.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise DisclosureError(f"batch.{k} must be a non-negative integer")
        return cls(registry=str(b["registry"]), batch_id=b["batch_id"], root=_decimal(b["root"], "batch.root"),
                   count=ints["count"], size=ints["size"], index=ints["index"], leaf=_decimal(b["leaf"], "batch.leaf"),
                   path=tuple(_decimal(p, "batch.path[]") for p in path), tx_hash=str(b["tx_hash"]),
                   block_number=ints["block_number"])


@dataclass(frozen=True)
class Disclosure:
    attestation_id: str
    chain: ChainRef | None
    model_hash: bytes
    input_shape: tuple[int, ...]
    input_values: tuple[int, ...]
    input_salt: int
    predicted_class: int
    num_classes: int
    scores: tuple[int, ...]
    prediction_salt: int
    method: str
    explanation_shape: tuple[int, ...]
    explanation_values: tuple[int, ...]
    explanation_salt: int
    public_inputs: tuple[int, ...]
    proof: Mapping[str, Any]
    #: Trust / explanation-quality figures measured by the node: informative, not covered by the proof.
    assessment: Mapping[str, Any] | None = None
    #: Batch mode: the batch and the Merkle path of this prediction (``proof`` is then the batch proof).
    batch: BatchRef | None = None
    format: str = FORMAT
    #: The proof level the bundle claims (node.verify.levels); formats 1 and 2 are ``commitment``.
    level: str = COMMITMENT
    #: Proven levels: the Poseidon commitment of the quantized weights (informative: the key pins the model).
    model_commitment: int | None = None

    @property
    def bound(self) -> bool:
        """Whether the proof is bound to an attester, chain and registry (format 2; format 1 predates it)."""
        return self.format != FORMAT_V1

    def statement(self) -> list[int]:
        """The six statement values recomputed from the disclosed data; the class must be an argmax of the scores."""
        opening = self.opening()
        if not is_argmax(opening.scores, opening.predicted_class):
            raise DisclosureError(f"predicted class {opening.predicted_class} is not an argmax of the disclosed scores")
        values = statement_values(opening)
        if self.level in PROVEN_LEVELS:
            try:
                values[2], values[5] = proven_digests(
                    self.level, self.method, self.input_shape, self.input_values, self.input_salt,
                    self.explanation_shape, self.explanation_values, self.explanation_salt)
            except (CircuitError, ValueError) as exc:
                raise DisclosureError(f"disclosed values are not a valid {self.level}-level opening: {exc}") from exc
        return values

    def context(self) -> int:
        """The context the proof is bound to, from the chain section (DisclosureError for format 1 or no chain)."""
        if self.chain is None:
            raise DisclosureError("the bundle names no chain, registry and attester")
        return self.chain.context()

    def opening(self) -> CommitmentOpening:
        """The circuit opening these disclosed values commit to (raises DisclosureError if inconsistent)."""
        try:
            return CommitmentOpening(
                model_hash=self.model_hash,
                input_hash=input_hash(self.input_shape, self.input_values),
                input_salt=self.input_salt,
                scores=self.scores,
                predicted_class=self.predicted_class,
                prediction_salt=self.prediction_salt,
                explanation_hash=explanation_hash(self.method, self.explanation_shape, self.explanation_values),
                explanation_salt=self.explanation_salt,
            )
        except (CircuitError, ValueError) as exc:
            raise DisclosureError(f"disclosed values are not a valid opening: {exc}") from exc

    def recomputed_public_inputs(self) -> list[int]:
        """The bundle's ``public_inputs`` recomputed from the disclosed data and the chain section: the statement,
        then (format 2, single mode) the context; batched predictions carry the statement alone (their leaf)."""
        statement = self.statement()
        if self.batch is not None or not self.bound:
            return statement
        return [*statement, self.context()]

    def to_json(self) -> dict[str, Any]:
        levels: dict[str, Any] = {}
        if self.format == FORMAT:
            levels["level"] = self.level
            if self.level in PROVEN_LEVELS:
                levels["digests"] = PROVEN_DIGESTS
            if self.model_commitment is not None:
                levels["model_commitment"] = str(self.model_commitment)
        return {
            "format": self.format,
            **levels,
            "attestation_id": self.attestation_id,
            "chain": None if self.chain is None else self.chain.to_json(),
            "model_hash": "0x" + self.model_hash.hex(),
            "input": {"shape": list(self.input_shape), "values": list(self.input_values), "salt": str(self.input_salt)},
            "prediction": {
                "predicted_class": self.predicted_class,
                "num_classes": self.num_classes,
                "scores": list(self.scores),
                "salt": str(self.prediction_salt),
            },
            "explanation": {
                "method": self.method,
                "shape": list(self.explanation_shape),
                "values": list(self.explanation_values),
                "salt": str(self.explanation_salt),
            },
            "public_inputs": [str(v) for v in self.public_inputs],
            "proof": dict(self.proof),
            **({"assessment": dict(self.assessment)} if self.assessment is not None else {}),
            **({"batch": self.batch.to_json()} if self.batch is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Any) -> Disclosure:
        try:
            return _parse(data)
        except DisclosureError:
            raise
        except UnknownLevel as exc:
            raise DisclosureError(str(exc)) from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DisclosureError(f"malformed disclosure: {type(exc).__name__}: {exc}") from exc

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Disclosure:
        try:
            data = load_file(path, what="disclosure file")
        except OSError as exc:
            raise DisclosureError(f"cannot read disclosure file {path}: {exc}") from exc
        except NodeError as exc:  # too large, too deeply nested or not JSON: refused before/at parsing
            raise DisclosureError(str(exc)) from exc
        return cls.from_json(data)


def _ints(values: Any, what: str) -> tuple[int, ...]:
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        raise DisclosureError(f"{what} must be a list of integers")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise DisclosureError(f"{what} must hold integers only, found {v!r}")
        out.append(v)
    return tuple(out)


def _decimal(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DisclosureError(f"{what} must be a decimal string")
    try:
        return int(value)
    except ValueError as exc:
        raise DisclosureError(f"{what} is not a decimal integer: {value!r}") from exc


def _chain_kind(value: Any) -> str:
    if value not in CHAIN_KINDS:
        raise DisclosureError(f"chain.kind must be one of {', '.join(CHAIN_KINDS)}, got {value!r}")
    return str(value)


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise DisclosureError(f"{what} must be 0x followed by 64 hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise DisclosureError(f"{what} is not hex: {value!r}") from exc


def _parse(d: Any) -> Disclosure:
    if not isinstance(d, Mapping):
        raise DisclosureError("a disclosure must be a JSON object")
    fmt = d.get("format")
    if fmt not in FORMATS:
        raise DisclosureError(f"unsupported disclosure format {fmt!r} (expected {FORMAT!r})")
    chain = d.get("chain")
    level = COMMITMENT
    if fmt == FORMAT:
        level = parse_level(d.get("level"), "level")
        if level in PROVEN_LEVELS and d.get("digests") != PROVEN_DIGESTS:
            raise DisclosureError(f"a {level}-level bundle names its digest definitions: \"digests\": "
                                  f"\"{PROVEN_DIGESTS}\", got {d.get('digests')!r}")
    if fmt != FORMAT_V1 and (not isinstance(chain, Mapping) or not isinstance(chain.get("attester"), str)):
        raise DisclosureError(f"a {fmt} bundle names its chain, registry and attester (chain.attester)")
    inp, pred, expl = d["input"], d["prediction"], d["explanation"]
    if not isinstance(d["proof"], Mapping):
        raise DisclosureError("proof must be a snarkjs proof object")
    if not isinstance(expl["method"], str):
        raise DisclosureError("explanation.method must be a string")
    _hex32(d["attestation_id"], "attestation_id")
    return Disclosure(
        attestation_id=d["attestation_id"],
        chain=None
        if chain is None
        else ChainRef(
            chain_id=int(chain["chain_id"]),
            registry=str(chain["registry"]),
            tx_hash=str(chain["tx_hash"]),
            block_number=int(chain["block_number"]),
            attester=str(chain["attester"]) if fmt != FORMAT_V1 else None,
            kind=_chain_kind(chain.get("kind", "ethereum")),
            network=str(chain["network"]) if chain.get("network") is not None else None,
        ),
        model_hash=_hex32(d["model_hash"], "model_hash"),
        input_shape=_ints(inp["shape"], "input.shape"),
        input_values=_ints(inp["values"], "input.values"),
        input_salt=_decimal(inp["salt"], "input.salt"),
        predicted_class=int(pred["predicted_class"]),
        num_classes=int(pred["num_classes"]),
        scores=_ints(pred["scores"], "prediction.scores"),
        prediction_salt=_decimal(pred["salt"], "prediction.salt"),
        method=expl["method"],
        explanation_shape=_ints(expl["shape"], "explanation.shape"),
        explanation_values=_ints(expl["values"], "explanation.values"),
        explanation_salt=_decimal(expl["salt"], "explanation.salt"),
        public_inputs=tuple(_decimal(v, "public_inputs[]") for v in d["public_inputs"]),
        proof=d["proof"],
        assessment=d.get("assessment") if isinstance(d.get("assessment"), Mapping) else None,
        batch=BatchRef.from_json(d["batch"]) if d.get("batch") is not None else None,
        format=fmt,
        level=level,
        model_commitment=_decimal(d["model_commitment"], "model_commitment")
        if d.get("model_commitment") is not None else None,
    )
