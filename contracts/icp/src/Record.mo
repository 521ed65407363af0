/// The byte encoding of a record (the certified leaf) and of a statement (hashed into the attestation id).
/// Mirrored in Python by node/chains/icp/registry_record.py; the tests compare the two.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Nat8 "mo:core/Nat8";
import Principal "mo:core/Principal";
import Sha256 "Sha256";

module {
  /// BN254 scalar field modulus: every digest and the class must be below it (a proof's public input).
  public let FIELD_MODULUS : Nat = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
  public let PROOF_BYTES : Nat = 256;
  public let MAX_REASON : Nat8 = 4;
  /// Domain tag of the attestation id: id = SHA-256(tag || model_hash || 4 x 32-byte big-endian values).
  public let STATEMENT_TAG : Blob = "zkxai.icp.statement.v1";
  public let RECORD_VERSION : Nat8 = 1;

  public type Statement = {
    model_hash : Blob;
    input_digest : Nat;
    prediction_digest : Nat;
    predicted_class : Nat;
    explanation_digest : Nat;
  };

  public type Attestation = {
    id : Blob;
    statement : Statement;
    proof : Blob;
    attester : Principal;
    index : Nat64;
    time_ns : Nat64;
    revoked : Bool;
    reason : Nat8;
  };

  /// `n` as `width` big-endian bytes (n < 256^width is checked by the callers).
  public func bigEndian(n : Nat, width : Nat) : [Nat8] {
    let out = Array.tabulate<Nat8>(width, func(_) = 0);
    let bytes = Array.toVarArray<Nat8>(out);
    var rest = n;
    var i = width;
    while (i > 0) {
      i -= 1;
      bytes[i] := Nat8.fromNat(rest % 256);
      rest /= 256;
    };
    Array.fromVarArray<Nat8>(bytes);
  };

  /// Why a statement or proof is malformed, or null when it is well formed.
  public func check(s : Statement, proof : Blob) : ?Text {
    if (s.model_hash.size() != 32) return ?"model_hash must be 32 bytes";
    if (proof.size() != PROOF_BYTES) return ?"proof must be 256 bytes (8 words of 32 bytes)";
    for ((name, v) in [
      ("input_digest", s.input_digest),
      ("prediction_digest", s.prediction_digest),
      ("predicted_class", s.predicted_class),
      ("explanation_digest", s.explanation_digest),
    ].values()) {
      if (v >= FIELD_MODULUS) return ?(name # " is not below the BN254 scalar field modulus");
    };
    null;
  };

  func statementBytes(s : Statement) : [Nat8] {
    Array.flatten<Nat8>([
      Blob.toArray(s.model_hash),
      bigEndian(s.input_digest, 32),
      bigEndian(s.prediction_digest, 32),
      bigEndian(s.predicted_class, 32),
      bigEndian(s.explanation_digest, 32),
    ]);
  };

  public func id(s : Statement) : Blob {
    Sha256.digest(Blob.fromArray(Array.concat<Nat8>(Blob.toArray(STATEMENT_TAG), statementBytes(s))));
  };

  /// The certified leaf: version (1) | id (32) | statement (160) | proof (256) | index (8) | time_ns (8)
  /// | revoked (1) | reason (1) | attester length (1) | attester (<= 29).
  public func encode(a : Attestation) : Blob {
    let attester = Blob.toArray(Principal.toBlob(a.attester));
    Blob.fromArray(Array.flatten<Nat8>([
      [RECORD_VERSION],
      Blob.toArray(a.id),
      statementBytes(a.statement),
      Blob.toArray(a.proof),
      bigEndian(Nat64.toNat(a.index), 8),
      bigEndian(Nat64.toNat(a.time_ns), 8),
      [if (a.revoked) 1 else 0, a.reason, Nat8.fromNat(attester.size())],
      attester,
    ]));
  };
};
