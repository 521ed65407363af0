"""Drive circom2 / snarkjs for the Poseidon-chain circuits (used by scripts/bench_prover.py and
tests/test_prover_circom.py).

circom2 is a WASI build that only sees files under its working directory, so every circuit is
built inside its own folder. Tools are located relative to the repository root; a missing tool
is an error (CI installs them with ``npm ci``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
SNARKJS = BIN / "snarkjs"
CIRCOM = BIN / "circom2"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_poseidon_chain import write_sources  # noqa: E402


def _tool(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/bootstrap (npm ci)")
    return str(path)


def run(args: list[str], cwd: Path) -> float:
    """Run a command, raise with its output on failure, return its wall time in seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def snarkjs(args: list[str], cwd: Path) -> float:
    return run([_tool(SNARKJS), *args], cwd)


@dataclass(frozen=True)
class Built:
    """Paths of one compiled chain circuit and its witness."""

    folder: Path
    r1cs: Path
    wasm: Path
    input_json: Path
    wtns: Path


def build_circuit(folder: Path, main: Path, inputs: dict[str, object]) -> Built:
    """Compile ``main`` (already inside ``folder``) with circom --O2 and compute the witness."""
    stem = main.stem
    r1cs = folder / f"{stem}.r1cs"
    wasm = folder / f"{stem}_js" / f"{stem}.wasm"
    if not (r1cs.exists() and wasm.exists()):
        run([_tool(CIRCOM), main.name, "--r1cs", "--wasm", "--O2"], folder)
    inp = folder / "input.json"
    inp.write_text(json.dumps(inputs))
    wtns = folder / "witness.wtns"
    snarkjs(["wtns", "calculate", str(wasm), str(inp), str(wtns)], folder)
    return Built(folder=folder, r1cs=r1cs, wasm=wasm, input_json=inp, wtns=wtns)


def build_chain(folder: Path, n_hashes: int, x0: int = 5) -> Built:
    """Compile ``PoseidonChain(n_hashes)`` and compute a witness (x0, xs[i] = 1000 + i)."""
    folder.mkdir(parents=True, exist_ok=True)
    main = write_sources(folder, n_hashes)
    return build_circuit(folder, main, {"x0": str(x0), "xs": [str(1000 + i) for i in range(n_hashes)]})


def build_tiny(folder: Path) -> Built:
    """Compile scripts/circom/tiny.circom with a = 3, b = 5, c = 11."""
    folder.mkdir(parents=True, exist_ok=True)
    main = folder / "tiny.circom"
    main.write_text((Path(__file__).resolve().parent / "tiny.circom").read_text())
    return build_circuit(folder, main, {"a": "3", "b": "5", "c": "11"})


def make_ptau(folder: Path, power: int) -> Path:
    """A prepared power-``power`` ptau (new + one contribution + prepare phase2), cached."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"pot{power}_final.ptau"
    if final.exists():
        return final
    p0, p1 = folder / f"pot{power}_0.ptau", folder / f"pot{power}_1.ptau"
    snarkjs(["powersoftau", "new", "bn128", str(power), str(p0)], folder)
    snarkjs(["powersoftau", "contribute", str(p0), str(p1), "--name=zkxai-test", "-e=zkxai test entropy"], folder)
    snarkjs(["powersoftau", "prepare", "phase2", str(p1), str(final)], folder)
    p0.unlink()
    p1.unlink()
    return final


def make_zkey(built: Built, ptau: Path) -> tuple[Path, Path, Path]:
    """(initial zkey, contributed zkey, verification_key.json) via snarkjs groth16 setup."""
    z0 = built.folder / "circuit_0000.zkey"
    z1 = built.folder / "circuit_final.zkey"
    vk = built.folder / "verification_key.json"
    snarkjs(["groth16", "setup", str(built.r1cs), str(ptau), str(z0)], built.folder)
    snarkjs(["zkey", "contribute", str(z0), str(z1), "--name=zkxai-test", "-e=zkxai zkey entropy"], built.folder)
    snarkjs(["zkey", "export", "verificationkey", str(z1), str(vk)], built.folder)
    return z0, z1, vk
