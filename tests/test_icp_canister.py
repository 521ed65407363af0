"""The registry canister (contracts/icp): committed artifacts reproducible, and its logic run in the Motoko
interpreter (moc.js ``run``, driven by contracts/icp/test/run_interpreter.js) checked against the Python mirrors.

The interpreter has no certified data: contracts/icp/test/certified_data.mo prints each value the canister would
certify, and the test replays the records through :class:`RecordTree` to check every one of them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.field import R
from node.chains.icp.registry_record import IcpStatement, RegistryRecord, decode_leaf
from node.chains.icp.registry_tree import RecordTree

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.npm


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "motoko").is_dir():
        pytest.fail("node and node_modules/motoko are required (scripts/bootstrap installs them)")
    return node


def _run(program: str) -> str:
    result = subprocess.run(
        [_node(), str(ROOT / "contracts" / "icp" / "test" / "run_interpreter.js"), "Test.mo"],
        input=program, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["ok"], out["stderr"][:4000]
    return out["stdout"]


def _blob(raw: bytes) -> str:
    return '"' + "".join(f"\\{b:02x}" for b in raw) + '"'


def _unblob(text: str) -> bytes:
    return bytes(int(h, 16) for h in re.findall(r"\\([0-9A-Fa-f]{2})", text))


def _statement(seed: int, **change) -> IcpStatement:
    values = dict(model_hash=hashlib.sha256(b"model").digest(), input_digest=R - 1 - seed,
                  prediction_digest=seed * 7919, predicted_class=seed % 10, explanation_digest=2**200 + seed)
    values.update(change)
    return IcpStatement(**values)


def _mo_statement(s: IcpStatement) -> str:
    return (f"{{ model_hash = {_blob(s.model_hash)}; input_digest = {s.input_digest}; "
            f"prediction_digest = {s.prediction_digest}; predicted_class = {s.predicted_class}; "
            f"explanation_digest = {s.explanation_digest} }}")


def test_committed_artifacts_match_a_fresh_build() -> None:
    result = subprocess.run([_node(), str(ROOT / "scripts" / "build_icp.js"), "--check"], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_sha256_and_statement_id_agree_with_python() -> None:
    messages = [b"", b"abc", bytes(range(55)), bytes(range(56)), bytes(range(64)), bytes(range(200))]
    s = _statement(3)
    lines = "\n".join(f"Debug.print(debug_show (Sha256.digest({_blob(m)})));" for m in messages)
    program = f"""
import Debug "mo:core/Debug";
import Record "Record";
import Sha256 "Sha256";
{lines}
Debug.print(debug_show (Record.id({_mo_statement(s)})));
"""
    out = _run(program).strip().splitlines()
    for message, line in zip(messages, out):
        assert _unblob(line) == hashlib.sha256(message).digest(), message
    assert _unblob(out[len(messages)]) == s.attestation_id()  # the interpreter has no to_candid/from_candid


SCENARIO = """
import Debug "mo:core/Debug";
import Principal "mo:core/Principal";
import Reg "registry";
import Record "Record";

persistent actor class Client(r : Reg.Registry) {{
  public func attest(s : Record.Statement, p : Blob) : async () {{ Debug.print("attest " # debug_show (await r.attest(s, p))) }};
  public func batch(items : [{{ statement : Record.Statement; proof : Blob }}]) : async () {{
    Debug.print("batch " # debug_show (await r.attest_batch(items)));
  }};
  public func revoke(id : Blob, reason : Nat8) : async () {{ Debug.print("revoke " # debug_show (await r.revoke(id, reason))) }};
}};

persistent actor Test {{
  public func go() : async () {{
    let r = await Reg.Registry();
    let a = await Client(r);
    let b = await Client(r);
    Debug.print("client_a " # Principal.toText(Principal.fromActor(a)));
    Debug.print("client_b " # Principal.toText(Principal.fromActor(b)));
    Debug.print("root " # debug_show (await r.certified_root()));
    await a.attest({s1}, {proof});
    await a.attest({s1}, {proof});
    await b.attest({s1}, {proof});
    await b.attest({s2}, {proof});
    await a.attest({bad}, {proof});
    await a.attest({s3}, {short});
    await b.revoke({id1}, 1);
    await a.revoke({id1}, 9);
    await a.revoke({id1}, 2);
    await a.revoke({id1}, 3);
    await a.batch([{{ statement = {s3}; proof = {proof} }}, {{ statement = {s1}; proof = {proof} }}]);
    for (id in ([{id1}, {id2}, {id3}] : [Blob]).vals()) {{
      switch (await r.get_attestation(id)) {{
        case (?c) Debug.print("leaf " # debug_show (c.leaf) # " witness " # debug_show (c.witness) # " cert " # debug_show (c.certificate));
        case null Debug.print("missing");
      }};
    }};
    Debug.print("root " # debug_show (await r.certified_root()));
  }};
}};
Test.go();
"""


def test_registry_logic_in_the_interpreter() -> None:
    s1, s2, s3 = _statement(1), _statement(2), _statement(3)
    bad = _statement(4, predicted_class=5)
    proof = bytes(range(256))
    program = SCENARIO.format(
        s1=_mo_statement(s1), s2=_mo_statement(s2), s3=_mo_statement(s3),
        bad=_mo_statement(bad).replace("predicted_class = 5", f"predicted_class = {R}"),
        proof=_blob(proof), short=_blob(proof[:255]),
        id1=_blob(s1.attestation_id()), id2=_blob(s2.attestation_id()), id3=_blob(s3.attestation_id()),
    )
    out = _run(program).strip().splitlines()
    client_a = next(line.split()[1] for line in out if line.startswith("client_a "))
    client_b = next(line.split()[1] for line in out if line.startswith("client_b "))
    results = [line for line in out if line.startswith(("attest ", "revoke ", "batch "))]
    assert _unblob(results[0]) == s1.attestation_id()
    assert results[1].startswith("attest #err(#duplicate") and client_a in results[1]  # same caller, duplicate
    assert results[2].startswith("attest #err(#duplicate") and client_a in results[2]  # another caller: refused, holder named
    assert results[3].startswith("attest #ok")
    assert results[4].startswith('attest #err(#invalid("predicted_class')  # not a field element
    assert results[5].startswith('attest #err(#invalid("proof must be 256')
    assert results[6] == "revoke #err(#not_attester)"  # b cannot revoke a's record
    assert results[7].startswith('revoke #err(#invalid("reason')
    assert results[8] == "revoke #ok"
    assert results[9] == "revoke #err(#already_revoked)"
    assert results[10].startswith("batch [#ok(") and "#err(#duplicate" in results[10]

    leaves = [decode_leaf(_unblob(line.split(" witness ")[0])) for line in out if line.startswith("leaf ")]
    assert [r.statement for r in leaves] == [s1, s2, s3]
    assert [r.attester.to_text() for r in leaves] == [client_a, client_b, client_a]
    assert [r.index for r in leaves] == [0, 1, 2]
    assert (leaves[0].revoked, leaves[0].reason) == (True, 2) and not leaves[1].revoked
    assert all(r.proof == proof for r in leaves)
    assert all(line.endswith("cert null") for line in out if line.startswith("leaf "))

    # every certified_data value the canister set, replayed: attest s1, attest s2, revoke s1, attest s3
    unrevoked = RegistryRecord(**{**leaves[0].__dict__, "revoked": False, "reason": 0})
    tree, expected = RecordTree(), []
    for i, record in ((0, unrevoked), (1, leaves[1]), (0, leaves[0]), (2, leaves[2])):
        tree.set(i, record.encode())
        expected.append(tree.root())
    certified = [_unblob(line) for line in out if line.startswith("certified_data ")]
    assert certified == expected
    roots = [_unblob(line) for line in out if line.startswith("root ")]
    assert roots[0] == RecordTree().root() and roots[-1] == expected[-1]
    # each witness reconstructs to the certified root and reveals its record's leaf
    from node.chains.icp import cbor, hashtree

    for i, line in enumerate(line for line in out if line.startswith("leaf ")):
        witness = hashtree.from_cbor(cbor.decode(_unblob(line.split(" witness ")[1].split(" cert ")[0])))
        assert hashtree.reconstruct(witness) == expected[-1]
        assert hashtree.lookup_path([b"attestations", i.to_bytes(8, "big")], witness).value == leaves[i].encode()
