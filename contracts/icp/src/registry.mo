/// zkxai attestation registry canister (Internet Computer).
///
/// Records statements (model hash, salted digests, class) with their Groth16 proof words. The IC has no BN254
/// pairing, so the proof is not checked here: the attester is the authenticated caller principal, and a verifier
/// recomputes the proof's context public input (node/binding.py chain_context: "icp", the root key's SHA-256,
/// this canister's id, the attester) from the certified record and checks the proof off-chain.
/// Records are keyed by the statement (id = SHA-256 of it); duplicates are refused, only the attester revokes.
/// Every change re-certifies the root of a hash tree over the records (Tree.mo); get_attestation returns a
/// record with its witness and the subnet's certificate, so a reader trusts nothing but the IC root key.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import Int "mo:core/Int";
import List "mo:core/List";
import Map "mo:core/Map";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import Result "mo:core/Result";
import Time "mo:core/Time";
import CertifiedData "certified_data";
import Record "Record";
import Tree "Tree";

persistent actor class Registry() {
  public type Statement = Record.Statement;
  public type Attestation = Record.Attestation;
  public type Error = {
    #invalid : Text;
    #anonymous;
    #duplicate : { id : Blob; attester : Principal };
    #not_found;
    #not_attester;
    #already_revoked;
  };
  public type Certified = {
    attestation : Attestation;
    leaf : Blob;
    witness : Blob;
    certificate : ?Blob;
  };

  let ids = Map.empty<Blob, Nat>();
  let records = List.empty<Attestation>();
  let levels : Tree.Levels = List.empty<List.List<Blob>>();

  func store(i : Nat, a : Attestation) {
    if (i == List.size(records)) List.add(records, a) else List.put(records, i, a);
    Tree.set(levels, i, Record.encode(a));
    CertifiedData.set(Tree.root(levels));
  };

  func attestOne(caller : Principal, statement : Statement, proof : Blob) : Result.Result<Blob, Error> {
    if (Principal.isAnonymous(caller)) return #err(#anonymous);
    switch (Record.check(statement, proof)) {
      case (?why) return #err(#invalid why);
      case null {};
    };
    let id = Record.id(statement);
    switch (Map.get(ids, Blob.compare, id)) {
      case (?i) return #err(#duplicate { id; attester = List.at(records, i).attester });
      case null {};
    };
    let index = List.size(records);
    Map.add(ids, Blob.compare, id, index);
    store(
      index,
      {
        id;
        statement;
        proof;
        attester = caller;
        index = Nat64.fromNat(index);
        time_ns = Nat64.fromNat(Int.abs(Time.now()));
        revoked = false;
        reason = 0;
      },
    );
    #ok id;
  };

  public shared ({ caller }) func attest(statement : Statement, proof : Blob) : async Result.Result<Blob, Error> {
    attestOne(caller, statement, proof);
  };

  public shared ({ caller }) func attest_batch(items : [{ statement : Statement; proof : Blob }]) : async [Result.Result<Blob, Error>] {
    if (items.size() > 64) return [#err(#invalid "at most 64 statements per batch")];
    Array.map<{ statement : Statement; proof : Blob }, Result.Result<Blob, Error>>(items, func(item) = attestOne(caller, item.statement, item.proof));
  };

  public shared ({ caller }) func revoke(id : Blob, reason : Nat8) : async Result.Result<(), Error> {
    if (reason > Record.MAX_REASON) return #err(#invalid "reason must be 0..4");
    let i = switch (Map.get(ids, Blob.compare, id)) {
      case (?i) i;
      case null return #err(#not_found);
    };
    let a = List.at(records, i);
    if (a.attester != caller) return #err(#not_attester);
    if (a.revoked) return #err(#already_revoked);
    store(i, { a with revoked = true; reason });
    #ok;
  };

  /// The record, its certified leaf bytes, the witness (CBOR hash tree) and the certificate (null when called
  /// as an update or from another canister: certificates exist only in query calls).
  public query func get_attestation(id : Blob) : async ?Certified {
    switch (Map.get(ids, Blob.compare, id)) {
      case null null;
      case (?i) {
        let a = List.at(records, i);
        let leaf = Record.encode(a);
        ?{ attestation = a; leaf; witness = Tree.witness(levels, i, leaf); certificate = CertifiedData.getCertificate() };
      };
    };
  };

  public query func certified_root() : async Blob { Tree.root(levels) };

  public query func size() : async Nat64 { Nat64.fromNat(List.size(records)) };
};
