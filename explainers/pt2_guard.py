"""What an untrusted ``.pt2`` may contain before ``torch.export.load`` sees it (stdlib only).

``torch.export.load`` is documented unsafe for untrusted data, and with torch 2.14.1 it really is: weights and
constants flagged ``use_pickle`` are read with ``torch.load(weights_only=False)``, custom objects with
``pickle.loads``, the sample inputs with ``torch.load(weights_only=True)`` *falling back to weights_only=False*,
AOTInductor packages hold native shared libraries, and symbolic shapes are parsed with sympy (``sympify``
evaluates strings). So before torch sees an archive, :func:`check_pt2_content` requires of its hashed content
(:mod:`explainers.pt2_hash`; the sample inputs are dropped there and replaced by empty bytes):

* only the entries of one plain exported program named ``model``: format/version markers, ``models/model.json``,
  the weights and constants configs and their raw tensor files (no ``extra/``, ``aotinductor``, custom or opaque
  objects, executorch, XL weights);
* every weight and constant raw (``use_pickle: false``) and present;
* static shapes: no symbolic ints/floats/bools or expressions anywhere in the graph, no range constraints, no
  guard code;
* every operator in :data:`SUPPORTED_OPS` (the ATen ops :mod:`explainers.pt2_convert` converts); anything else is
  :class:`UnsupportedModel` naming the operator.

``torch.export.load`` then unpickles nothing: sample inputs are empty bytes (read as "none"), every tensor file
is raw. The same operator whitelist is applied again to the loaded graph.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from explainers.errors import ModelLoadError, UnsupportedModel
from explainers.pt2_hash import Pt2Archive

__all__ = ["SUPPORTED_OPS", "Pt2Content", "check_pt2_content", "op_name"]

#: ATen operators (``aten.<op>.<overload>``) a loadable program may call; all are converted to modules.
SUPPORTED_OPS: frozenset[str] = frozenset(
    {
        "aten.conv2d.default",
        "aten.batch_norm.default",
        "aten.relu.default",
        "aten.relu_.default",
        "aten.max_pool2d.default",
        "aten.avg_pool2d.default",
        "aten.adaptive_avg_pool2d.default",
        "aten.flatten.using_ints",
        "aten.linear.default",
        "aten.add.Tensor",
        "aten.add_.Tensor",
        "aten.cat.default",
        "aten.mean.dim",
        "aten.view.default",
        "aten.reshape.default",
        "aten.dropout.default",
        "aten.contiguous.default",
        "aten.clone.default",
        "aten.embedding.default",
        "aten.transpose.int",
        "aten.permute.default",
        "aten.unsqueeze.default",
        "aten.squeeze.dim",
        "aten.select.int",
        "aten.unflatten.int",
        "aten.scaled_dot_product_attention.default",
        "aten.layer_norm.default",
        "aten.gelu.default",
    }
)

_FIXED_ENTRIES = frozenset(
    {
        "archive_format",
        "archive_version",
        "byteorder",
        ".data/version",
        "models/model.json",
        "data/weights/model_weights_config.json",
        "data/constants/model_constants_config.json",
    }
)
_WEIGHT = re.compile(r"data/weights/weight_[0-9]+")
_CONSTANT = re.compile(r"data/constants/tensor_[0-9]+")
#: Keys of the serialized graph schema that carry symbolic values, subgraphs or objects (never static tensors).
_FORBIDDEN_KEYS = frozenset(
    {
        "as_sym_int", "as_sym_ints", "as_sym_float", "as_sym_floats", "as_sym_bool", "as_sym_bools",
        "as_expr", "expr_str", "as_graph", "as_custom_obj", "as_operator", "as_optional_tensors",
    }
)


@dataclass(frozen=True)
class Pt2Content:
    """What the checks learnt: the parsed graph document and the operators it calls."""

    program: dict
    ops: frozenset[str]


def op_name(target: str) -> str:
    """``torch.ops.aten.conv2d.default`` / ``aten.conv2d.default`` -> ``aten.conv2d.default``."""
    return target[len("torch.ops.") :] if target.startswith("torch.ops.") else target


def _json(archive: Pt2Archive, name: str) -> dict:
    raw = archive.get(name)
    if raw is None:
        raise ModelLoadError(f".pt2 archive lacks {name!r}")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f".pt2 entry {name!r} is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ModelLoadError(f".pt2 entry {name!r} is not a JSON object")
    return doc


def _check_entries(archive: Pt2Archive) -> None:
    for name in archive.names():
        if name in _FIXED_ENTRIES or _WEIGHT.fullmatch(name) or _CONSTANT.fullmatch(name):
            continue
        raise UnsupportedModel(
            f".pt2 entry {name!r} is not part of a plain exported program (one model named 'model', raw tensors; "
            "no extra files, AOTInductor code or custom objects)"
        )
    for name in ("archive_format", "archive_version", "byteorder", "models/model.json"):
        if archive.get(name) is None:
            raise ModelLoadError(f".pt2 archive lacks {name!r}")
    if archive.get("archive_format") != b"pt2" or archive.get("byteorder") != b"little":
        raise ModelLoadError(".pt2 archive_format must be 'pt2' and byteorder 'little'")


def _check_payloads(archive: Pt2Archive, config_name: str, pattern: re.Pattern[str], prefix: str) -> None:
    raw = archive.get(config_name)
    if raw is None:
        if any(pattern.fullmatch(n) for n in archive.names()):
            raise ModelLoadError(f".pt2 tensor files without {config_name!r}")
        return
    config = _json(archive, config_name).get("config")
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_name!r} has no 'config' object")
    for fqn, meta in config.items():
        if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
            raise UnsupportedModel(f"tensor {fqn!r} is pickled in the .pt2; only raw tensors are accepted")
        path = meta.get("path_name")
        if not isinstance(path, str) or archive.get(prefix + path) is None:
            raise ModelLoadError(f"tensor {fqn!r} points at a missing file {path!r}")


def _scan(value: object, where: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key in _FORBIDDEN_KEYS:
                    raise UnsupportedModel(
                        f"the .pt2 {where} holds {key!r}: only static shapes and plain tensors are accepted "
                        "(export with a fixed input shape, batch size 1)"
                    )
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)


def _check_program(doc: dict) -> frozenset[str]:
    module = doc.get("graph_module")
    if not isinstance(module, dict) or not isinstance(module.get("graph"), dict):
        raise ModelLoadError("models/model.json has no graph_module.graph")
    graph = module["graph"]
    for key in ("sym_int_values", "sym_float_values", "sym_bool_values", "custom_obj_values"):
        if graph.get(key):
            raise UnsupportedModel(f"the .pt2 graph has {key}: only static shapes and plain tensors are accepted")
    if doc.get("range_constraints") or doc.get("guards_code"):
        raise UnsupportedModel("the .pt2 program has symbolic shapes or guard code; export with static shapes")
    _scan(graph, "graph")
    _scan(module.get("signature"), "signature")
    ops: set[str] = set()
    for node in graph.get("nodes", []):
        target = node.get("target") if isinstance(node, dict) else None
        if not isinstance(target, str):
            raise ModelLoadError("a .pt2 graph node has no operator target")
        name = op_name(target)
        if name not in SUPPORTED_OPS:
            raise UnsupportedModel(
                f"operator {name!r} is not supported (supported: {', '.join(sorted(SUPPORTED_OPS))})"
            )
        ops.add(name)
    return frozenset(ops)


def check_pt2_content(archive: Pt2Archive) -> Pt2Content:
    """Refuse anything but a static, pickle-free program of :data:`SUPPORTED_OPS` (see the module docstring)."""
    _check_entries(archive)
    _check_payloads(archive, "data/weights/model_weights_config.json", _WEIGHT, "data/weights/")
    _check_payloads(archive, "data/constants/model_constants_config.json", _CONSTANT, "data/constants/")
    doc = _json(archive, "models/model.json")
    return Pt2Content(program=doc, ops=_check_program(doc))
