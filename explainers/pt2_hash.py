"""Model hash of a ``.pt2`` file (a ``torch.export`` ExportedProgram archive), computable without torch.

Imports only the Python standard library (and :mod:`explainers.errors`), so the light verifier can recompute
the hash of ``model.pt2`` with no torch installed: ``pt2_model_hash(open("model.pt2", "rb").read())``.

Why not SHA-256 of the file: ``torch.export.save`` is not deterministic across processes (measured with
torch 2.14.1: two processes exporting the same ResNet-18 give different bytes). ``.data/serialization_id`` is
random per save, and every graph node's ``metadata`` holds stack traces with absolute source paths and Python
object ids. Zip containers also vary in timestamps, compression, entry order and the root folder name.

Hash layout (integers big-endian)::

    SHA-256( b"zkxai.pt2.v1"
             || u32(number of entries)
             || for each entry, sorted by name (UTF-8 bytes):
                    u32(len(name)) || name || u64(len(content)) || content )

Entries are the archive's regular files, named relative to the archive's single root folder (torch writes
``archive/`` or ``<name>/``; the root is dropped), with ``content`` the entry's uncompressed bytes, except:

* ``models/<m>.json`` (the graph, signature, opset and schema versions) is *canonical JSON*: parsed, each node's
  ``metadata`` in ``graph_module.graph.nodes`` replaced by ``{}``, the top-level ``torch_version`` removed,
  then ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` encoded as ASCII.

Excluded, because none of it affects what the program computes:

* node ``metadata`` (stack traces, ``nn_module_stack``, ``source_fn_stack``, ``from_node``: debug provenance
  holding paths and object ids) and ``torch_version`` (the build string, e.g. ``2.14.1+cu130`` vs ``+cpu``);
* ``.data/serialization_id`` (random per save);
* ``data/sample_inputs/*`` (the example inputs given to ``torch.export``; a pickle, never loaded by zkxai);
* directory entries and zip container details (timestamps, compression, order, comments, extra fields).

Everything else is hashed byte for byte: the graph (every operator and argument), the weights config (dtypes,
shapes, strides), every weight and constant file, the format/version/byte-order markers.
:func:`normalized_pt2_bytes` rebuilds an archive from exactly the hashed content (plus a serialization id derived
from the hash and empty sample inputs); :func:`explainers.pt2.load_pt2` hands only that archive to torch, so
what runs is what is hashed.

Untrusted input is parsed under :class:`Pt2Limits` (file size, entry count, total and per-entry uncompressed
size from the central directory, checked before anything is decompressed; decompression never returns more than
the declared size and is CRC-checked), and refused with :class:`ModelLoadError` when malformed.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from dataclasses import dataclass

from explainers.errors import ModelLoadError

__all__ = [
    "PT2_HASH_MAGIC",
    "DEFAULT_LIMITS",
    "Pt2Archive",
    "Pt2Limits",
    "canonical_model_json",
    "normalized_pt2_bytes",
    "pt2_model_hash",
    "read_pt2_archive",
]

PT2_HASH_MAGIC = b"zkxai.pt2.v1"
SERIALIZATION_ID = ".data/serialization_id"
SAMPLE_INPUTS_DIR = "data/sample_inputs/"
MODELS_DIR = "models/"
NORMALIZED_ROOT = "archive"
_ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Pt2Limits:
    """Bounds applied to an untrusted ``.pt2`` before anything is decompressed."""

    max_bytes: int = 1 << 30  # the file itself (ResNet-50 fp32 is ~100 MB)
    max_entries: int = 4096
    max_total_uncompressed: int = 2 << 30
    max_json_bytes: int = 64 << 20  # any single JSON entry (graph, configs)


DEFAULT_LIMITS = Pt2Limits()


@dataclass(frozen=True)
class Pt2Archive:
    """The hashed content of a ``.pt2``: sorted ``(name, content)`` pairs, names relative to the root folder."""

    entries: tuple[tuple[str, bytes], ...]

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.entries)

    def get(self, name: str) -> bytes | None:
        for entry, content in self.entries:
            if entry == name:
                return content
        return None

    def digest(self) -> bytes:
        """The model hash (see the module docstring for the layout)."""
        h = hashlib.sha256(PT2_HASH_MAGIC)
        h.update(struct.pack(">I", len(self.entries)))
        for name, content in self.entries:
            raw = name.encode("utf-8")
            h.update(struct.pack(">I", len(raw)))
            h.update(raw)
            h.update(struct.pack(">Q", len(content)))
            h.update(content)
        return h.digest()


def canonical_model_json(raw: bytes) -> bytes:
    """Canonical form of a ``models/<m>.json`` entry (node metadata emptied, ``torch_version`` dropped)."""
    try:
        doc = json.loads(raw.decode("utf-8"))
        nodes = doc["graph_module"]["graph"]["nodes"]
        if not isinstance(nodes, list):
            raise TypeError("graph nodes is not a list")
        for node in nodes:
            node["metadata"] = {}
        doc.pop("torch_version", None)
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"the .pt2 graph (models/*.json) is not a torch.export program: {exc}") from exc


def _check_name(name: str) -> None:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", ".."):
        raise ModelLoadError(f"unsafe entry name in .pt2 archive: {name!r}")


def _bounded_infos(zf: zipfile.ZipFile, limits: Pt2Limits) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ModelLoadError(f".pt2 archive has {len(infos)} entries, more than the limit {limits.max_entries}")
    total = 0
    seen: set[str] = set()
    for info in infos:
        _check_name(info.filename)
        if info.filename in seen:
            raise ModelLoadError(f"duplicate entry {info.filename!r} in .pt2 archive")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise ModelLoadError(f"encrypted entry {info.filename!r} in .pt2 archive")
        if info.compress_type not in _ALLOWED_COMPRESSION:
            raise ModelLoadError(f"entry {info.filename!r} uses compression {info.compress_type} (stored/deflate only)")
        total += info.file_size
        if total > limits.max_total_uncompressed:
            raise ModelLoadError(
                f".pt2 archive expands to more than {limits.max_total_uncompressed} bytes (zip bomb defence)"
            )
        if info.filename.endswith(".json") and info.file_size > limits.max_json_bytes:
            raise ModelLoadError(f"entry {info.filename!r} is {info.file_size} bytes, over the JSON limit")
    return infos


def read_pt2_archive(data: bytes, limits: Pt2Limits = DEFAULT_LIMITS) -> Pt2Archive:
    """Parse an untrusted ``.pt2`` (bounded, see :class:`Pt2Limits`) into its hashed content."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise ModelLoadError(".pt2 model must be given as non-empty bytes")
    if len(data) > limits.max_bytes:
        raise ModelLoadError(f".pt2 file is {len(data)} bytes, more than the limit {limits.max_bytes}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ModelLoadError(f"not a .pt2 (zip) archive: {exc}") from exc
    with zf:
        files = [i for i in _bounded_infos(zf, limits) if not i.is_dir()]
        roots = {i.filename.split("/", 1)[0] for i in files}
        if len(roots) != 1 or any("/" not in i.filename for i in files):
            raise ModelLoadError(f".pt2 entries must share one root folder, found {sorted(roots)[:5]}")
        entries: list[tuple[str, bytes]] = []
        for info in files:
            name = info.filename.split("/", 1)[1]
            if name == SERIALIZATION_ID or name.startswith(SAMPLE_INPUTS_DIR):
                continue
            try:
                with zf.open(info) as fh:
                    content = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
                raise ModelLoadError(f"corrupt .pt2 entry {info.filename!r}: {exc}") from exc
            if len(content) != info.file_size:
                raise ModelLoadError(f".pt2 entry {info.filename!r} does not match its declared size")
            if name.startswith(MODELS_DIR) and name.endswith(".json"):
                content = canonical_model_json(content)
            entries.append((name, content))
    entries.sort(key=lambda e: e[0].encode("utf-8"))
    return Pt2Archive(entries=tuple(entries))


def pt2_model_hash(data: bytes, limits: Pt2Limits = DEFAULT_LIMITS) -> bytes:
    """SHA-256 model hash (32 bytes) of a ``.pt2`` file's canonical content (layout in the module docstring)."""
    return read_pt2_archive(data, limits).digest()


def normalized_pt2_bytes(archive: Pt2Archive) -> bytes:
    """A deterministic ``.pt2`` holding exactly ``archive``'s hashed content, loadable by ``torch.export.load``.

    Entries are stored uncompressed under ``archive/`` in hash order with a fixed timestamp; the serialization id
    is the hash's first 40 hex digits and the sample inputs are empty (torch reads them as "none").
    """
    out = io.BytesIO()
    extra = [
        (SERIALIZATION_ID, archive.digest().hex()[:40].encode("ascii")),
        (f"{SAMPLE_INPUTS_DIR}model.pt", b""),
    ]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, content in list(archive.entries) + extra:
            info = zipfile.ZipInfo(f"{NORMALIZED_ROOT}/{name}", date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return out.getvalue()
