"""Ceremony keys for the node: our ``.r1cs`` writer, ``zkxai keys export-r1cs`` / ``import-zkey``, ``prover.zkey``.

The npm tests run a real (two-contribution) snarkjs ceremony on the exported commitment circuit: powers of tau at
power 11 (the smallest domain holding 1,892 constraints + 7 public inputs + 1), ``groth16 setup`` and a ``zkey
contribute``; the node imports the zkey with the CLI and proves a commitment opening through its prover pool; snarkjs
accepts the proof with its own exported verification key, and so does our verifier with the imported one.
About 2 minutes on 2 cores, most of it ``powersoftau prepare phase2``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from circuits.commitment import CommitmentOpening, commitment_circuit, hash_to_field, public_inputs, vector_hash
from circuits.r1cs import R1CS, Constraint
from node.cli.main import main as cli_main
from node.errors import ConfigError
from node.pipeline.proving import (
    ProverPool,
    ensure_keys,
    import_zkey,
    key_paths,
    source_path,
)
from node.settings import (
    DEFAULT_TOML,
    load_config,
)
from prover import SerializationError, verify
from prover.circom_files import parse_r1cs, r1cs_bytes, read_r1cs, write_r1cs
from prover.fields import R
from prover.serialize import proof_to_snarkjs, public_to_snarkjs, vk_from_snarkjs

CLASSES = 10
POWER = 11


# ------------------------------------------------------------------ the .r1cs writer (no npm tools needed)
def _generic(r1cs: R1CS) -> R1CS:
    """What the .r1cs format keeps: no names."""
    return replace(r1cs, public_names=tuple(f"public_{i}" for i in range(r1cs.n_public)), wire_names={})


def test_commitment_r1cs_round_trips(tmp_path: Path) -> None:
    r1cs = commitment_circuit(CLASSES).r1cs
    out = write_r1cs(r1cs, tmp_path / "c.r1cs")
    back = read_r1cs(out)
    assert back == _generic(r1cs)
    assert (back.n_wires, back.n_public, back.n_constraints) == (1883, 7, 1892)
    assert parse_r1cs(out.read_bytes()) == back
    assert r1cs_bytes(back) == out.read_bytes()  # canonical: writing what we read gives the same bytes


def test_small_r1cs_round_trips_and_is_canonical() -> None:
    # x * x = y with y public, plus a constraint with large coefficients and an unordered, zero-bearing lc
    small = R1CS(n_wires=4, n_public=1, public_names=("y",), wire_names={},
                 constraints=(Constraint({2: 1}, {2: 1}, {1: 1}),
                              Constraint({3: R - 1, 0: 5}, {0: 1}, {2: 7, 1: R - 2})))
    data = r1cs_bytes(small)
    back = parse_r1cs(data)
    assert back.constraints == small.constraints and (back.n_wires, back.n_public) == (4, 1)
    # header: n8 = 32, r, then nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints
    header = data[12 + 12:]
    assert int.from_bytes(header[4:36], "little") == R
    assert [int.from_bytes(header[36 + 4 * i: 40 + 4 * i], "little") for i in range(4)] == [4, 0, 1, 0]
    zeros = R1CS(n_wires=4, n_public=1, public_names=("y",), wire_names={},
                 constraints=(Constraint({2: 1, 3: 0}, {2: 1}, {1: 1}),
                              Constraint({0: 5, 3: R - 1}, {0: 1}, {1: R - 2, 2: 7})))
    assert r1cs_bytes(zeros) == data  # zero terms dropped, terms sorted by wire
    # witness x = 3, y = 9, w3 = 5 satisfies both before and after the round trip
    w = [1, 9, 3, (5 - 7 * 3 + 2 * 9) % R]
    assert small.is_satisfied(w) and back.is_satisfied(w)
    assert not back.is_satisfied([1, 10, 3, w[3]])


def test_r1cs_writer_and_reader_refuse_bad_input() -> None:
    bad = R1CS(n_wires=3, n_public=1, public_names=("y",), wire_names={},
               constraints=(Constraint({3: 1}, {0: 1}, {1: 1}),))
    with pytest.raises(SerializationError, match="wire 3"):
        r1cs_bytes(bad)
    good = r1cs_bytes(R1CS(n_wires=3, n_public=1, public_names=("y",), wire_names={},
                           constraints=(Constraint({2: 1}, {0: 1}, {1: 1}),)))
    with pytest.raises(SerializationError):
        parse_r1cs(good[:-8])
    with pytest.raises(SerializationError):
        parse_r1cs(b"wtns" + good[4:])


def test_prover_zkey_setting(tmp_path: Path) -> None:
    assert load_config(env={}).prover_zkey is None
    assert load_config(env={"ZKXAI_PROVER_ZKEY": "/k/final.zkey"}).prover_zkey == Path("/k/final.zkey")
    assert load_config(env={"ZKXAI_PROVER_ZKEY": ""}).prover_zkey is None
    config = tmp_path / "zkxai.toml"
    config.write_text('[prover]\nzkey = "ceremony/final.zkey"\n')
    assert load_config(config, env={}).prover_zkey == Path("ceremony/final.zkey")
    config.write_text("[prover]\nzkey = 3\n")
    with pytest.raises(ConfigError, match="prover.zkey"):
        load_config(config, env={})
    default = tmp_path / "default.toml"
    default.write_text(DEFAULT_TOML.format(data_dir=tmp_path, keystore=tmp_path / "k.json").replace("# zkey =", "zkey ="))
    assert load_config(default, env={}).prover_zkey == Path("ceremony/commitment_final.zkey")


# ------------------------------------------------------------------ a real snarkjs ceremony
@dataclass(frozen=True)
class Ceremony:
    folder: Path
    r1cs: Path
    zkey0: Path
    zkey: Path
    vk_json: Path


def _snarkjs(snarkjs_bin: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(snarkjs_bin), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"{proc.args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory, snarkjs_bin: Path) -> Ceremony:
    folder = tmp_path_factory.mktemp("ceremony")
    r1cs = folder / "commitment.r1cs"
    assert cli_main(["keys", "export-r1cs", str(r1cs), "--classes", str(CLASSES)]) == 0
    info = _snarkjs(snarkjs_bin, folder, "r1cs", "info", r1cs.name)
    _ok(info)
    assert "# of Constraints: 1892" in info.stdout and "# of Public Inputs: 7" in info.stdout
    steps = [
        ("powersoftau", "new", "bn128", str(POWER), "pot_0.ptau"),
        ("powersoftau", "contribute", "pot_0.ptau", "pot_1.ptau", "--name=alice", "-e=alice entropy"),
        ("powersoftau", "prepare", "phase2", "pot_1.ptau", "pot_final.ptau"),
        ("groth16", "setup", r1cs.name, "pot_final.ptau", "commitment_0.zkey"),
        ("zkey", "contribute", "commitment_0.zkey", "commitment_final.zkey", "--name=bob", "-e=bob entropy"),
        ("zkey", "export", "verificationkey", "commitment_final.zkey", "verification_key.json"),
    ]
    for step in steps:
        _ok(_snarkjs(snarkjs_bin, folder, *step))
    return Ceremony(folder, r1cs, folder / "commitment_0.zkey", folder / "commitment_final.zkey",
                    folder / "verification_key.json")


#: The context the proof is bound to (any field element; the registry would recompute it).
CONTEXT = 424242


def _opening() -> CommitmentOpening:
    scores = (-65536, 3 * 65536, 12, 7 * 65536 + 5, 0, -(2**31), 2**31 - 1 - 2**30, 42, -42, 65536)
    return CommitmentOpening(
        model_hash=hashlib.sha256(b"zkey test model").digest(), input_hash=hash_to_field(b"input"), input_salt=101,
        scores=scores, predicted_class=6, prediction_salt=202, explanation_hash=vector_hash([3, -1, 4]),
        explanation_salt=303)


def _snarkjs_verifies(snarkjs_bin: Path, folder: Path, vk_json: Path, public: list[int], proof: object) -> bool:
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "public.json").write_text(json.dumps(public_to_snarkjs(public)))
    proc = _snarkjs(snarkjs_bin, folder, "groth16", "verify", str(vk_json), "public.json", "proof.json")
    return proc.returncode == 0 and "OK" in proc.stdout


async def _prove_with_pool(paths: object, opening: CommitmentOpening) -> object:
    pool = ProverPool(paths)  # type: ignore[arg-type]
    try:
        return await pool.prove(opening, CONTEXT)
    finally:
        pool.close()


@pytest.mark.npm
@pytest.mark.slow
def test_imported_ceremony_key_proves_for_snarkjs(ceremony: Ceremony, snarkjs_bin: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "node"
    assert cli_main(["keys", "import-zkey", str(ceremony.zkey), "--data-dir", str(data_dir)]) == 0
    printed = capsys.readouterr().out
    assert str(ceremony.zkey.resolve()) in printed and hashlib.sha256(ceremony.zkey.read_bytes()).hexdigest() in printed
    paths = key_paths(data_dir / "keys", CLASSES)
    vk = vk_from_snarkjs(json.loads(paths.verifying_key.read_text()))
    assert vk == vk_from_snarkjs(json.loads(ceremony.vk_json.read_text()))  # the ceremony's key, not a new one
    assert json.loads(source_path(data_dir / "keys", CLASSES).read_text())["source"] == "snarkjs-zkey"
    # the node's start-up path finds the imported keys (and accepts them as the configured zkey's)
    started, started_vk = ensure_keys(data_dir / "keys", CLASSES, ceremony.zkey)
    assert started == paths and started_vk == vk

    opening = _opening()
    proof = asyncio.run(_prove_with_pool(paths, opening))
    public = public_inputs(opening, CONTEXT)
    assert _snarkjs_verifies(snarkjs_bin, tmp_path, ceremony.vk_json, public, proof_to_snarkjs(proof))
    assert verify(vk, public, proof)  # type: ignore[arg-type]
    wrong = [*public[:4], public[4] + 1, *public[5:]]
    assert not _snarkjs_verifies(snarkjs_bin, tmp_path, ceremony.vk_json, wrong, proof_to_snarkjs(proof))
    assert not verify(vk, wrong, proof)  # type: ignore[arg-type]


@pytest.mark.npm
@pytest.mark.slow
def test_import_refuses_overwrite_and_other_circuits(ceremony: Ceremony, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    keys_dir = tmp_path / "node" / "keys"
    # a zkey of the 10-class circuit is not a key for the 9-class one
    assert cli_main(["keys", "import-zkey", str(ceremony.zkey), "--data-dir", str(tmp_path / "node"),
                     "--classes", "9"]) == 2
    assert "not a proving key for the 9-class commitment circuit" in capsys.readouterr().err
    assert not key_paths(keys_dir, 9).proving_key.exists()
    # nor is a truncated file
    broken = tmp_path / "broken.zkey"
    broken.write_bytes(ceremony.zkey.read_bytes()[:4096])
    with pytest.raises(ConfigError, match="not a proving key"):
        import_zkey(broken, keys_dir, CLASSES)

    first = import_zkey(ceremony.zkey0, keys_dir, CLASSES)
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        import_zkey(ceremony.zkey, keys_dir, CLASSES)
    # prover.zkey names another zkey than the one the keys came from: the node does not start with them
    with pytest.raises(ConfigError, match="holds other commitment-10 keys"):
        ensure_keys(keys_dir, CLASSES, ceremony.zkey)
    assert cli_main(["keys", "import-zkey", str(ceremony.zkey), "--data-dir", str(tmp_path / "node"), "--force"]) == 0
    replaced = vk_from_snarkjs(json.loads(first.paths.verifying_key.read_text()))
    assert replaced != first.vk and replaced == vk_from_snarkjs(json.loads(ceremony.vk_json.read_text()))

    # prover.zkey on a node without keys: imported at start
    fresh = tmp_path / "fresh" / "keys"
    paths, vk = ensure_keys(fresh, CLASSES, ceremony.zkey)
    assert paths.proving_key.exists() and vk == replaced
    shutil.rmtree(fresh)
