/// The registry's certified hash tree, in the IC hash-tree format (interface spec, "Certification").
///
/// Shape: labeled("attestations", T); T is Empty with no record, else a binary tree over the records in insertion
/// order: level 0 holds labeled(index as 8 bytes big-endian, leaf(record bytes)) per record, each level above pairs
/// neighbours with fork(left, right) and moves an unpaired last node up unchanged. Labels are thus sorted.
/// Node hashes of every level are kept, so an append or a revocation rehashes one path: O(log n) SHA-256.
/// Mirrored in Python by node/chains/icp/registry_tree.py.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat8 "mo:core/Nat8";
import Record "Record";
import Sha256 "Sha256";
import Text "mo:core/Text";

module {
  public type Levels = List.List<List.List<Blob>>;

  public let ROOT_LABEL : Blob = "attestations";

  func domain(name : Text, rest : [[Nat8]]) : Blob {
    let tag = Blob.toArray(Text.encodeUtf8(name));
    Sha256.digest(Blob.fromArray(Array.flatten<Nat8>(Array.concat<[Nat8]>([[Nat8.fromNat(tag.size())], tag], rest))));
  };

  public func leafHash(value : Blob) : Blob = domain("ic-hashtree-leaf", [Blob.toArray(value)]);
  public func labeledHash(lab : Blob, sub : Blob) : Blob = domain("ic-hashtree-labeled", [Blob.toArray(lab), Blob.toArray(sub)]);
  public func forkHash(l : Blob, r : Blob) : Blob = domain("ic-hashtree-fork", [Blob.toArray(l), Blob.toArray(r)]);
  public func emptyHash() : Blob = domain("ic-hashtree-empty", []);

  public func indexLabel(i : Nat) : Blob = Blob.fromArray(Record.bigEndian(i, 8));

  func recordHash(i : Nat, record : Blob) : Blob = labeledHash(indexLabel(i), leafHash(record));

  func level(levels : Levels, l : Nat) : List.List<Blob> {
    while (List.size(levels) <= l) List.add(levels, List.empty<Blob>());
    List.at(levels, l);
  };

  /// Set record `i` (append when i = count) and rehash its path to the top.
  public func set(levels : Levels, i : Nat, record : Blob) {
    var node = recordHash(i, record);
    var idx = i;
    var l = 0;
    loop {
      let row = level(levels, l);
      if (idx == List.size(row)) List.add(row, node) else List.put(row, idx, node);
      if (List.size(row) == 1) return;
      let left = idx - idx % 2;
      node := if (left + 1 < List.size(row)) forkHash(List.at(row, left), List.at(row, left + 1)) else List.at(row, left);
      idx := left / 2;
      l += 1;
    };
  };

  /// The hash of labeled("attestations", T): the value the canister certifies.
  public func root(levels : Levels) : Blob {
    let top = List.size(levels);
    let t = if (top == 0) emptyHash() else List.at(List.at(levels, top - 1), 0);
    labeledHash(ROOT_LABEL, t);
  };

  func head(major : Nat, n : Nat) : [Nat8] {
    let m = Nat8.fromNat(major * 32);
    if (n < 24) [m + Nat8.fromNat(n)] else if (n < 256) [m + 24, Nat8.fromNat(n)] else [m + 25, Nat8.fromNat(n / 256), Nat8.fromNat(n % 256)];
  };

  func bytes(b : Blob) : [Nat8] = Array.concat<Nat8>(head(2, b.size()), Blob.toArray(b));

  /// The CBOR (tag 55799) witness revealing record `target`, every other branch pruned.
  public func witness(levels : Levels, target : Nat, record : Blob) : Blob {
    func build(l : Nat, idx : Nat) : [Nat8] {
      let row = List.at(levels, l);
      if (target / (2 ** l) != idx) return Array.flatten<Nat8>([[0x82, 0x04], bytes(List.at(row, idx))]);
      if (l == 0) return Array.flatten<Nat8>([[0x83, 0x02], bytes(indexLabel(idx)), [0x82, 0x03], bytes(record)]);
      let below = List.size(List.at(levels, l - 1));
      if (2 * idx + 1 >= below) return build(l - 1, 2 * idx);
      Array.flatten<Nat8>([[0x83, 0x01], build(l - 1, 2 * idx), build(l - 1, 2 * idx + 1)]);
    };
    let top = List.size(levels) - 1;
    Blob.fromArray(Array.flatten<Nat8>([[0xd9, 0xd9, 0xf7, 0x83, 0x02], bytes(ROOT_LABEL), build(top, 0)]));
  };
};
