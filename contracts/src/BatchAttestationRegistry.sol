// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AttestationContext} from "./AttestationContext.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @notice circomlibjs's generated Poseidon contract with 2 inputs (scripts/gen_poseidon_contract.js, PoseidonT3).
interface IPoseidonT3 {
    function poseidon(uint256[2] memory input) external pure returns (uint256);
}

/// @notice circomlibjs's generated Poseidon contract with 6 inputs (scripts/gen_poseidon_contract.js, PoseidonT7).
interface IPoseidonT7 {
    function poseidon(uint256[6] memory input) external pure returns (uint256);
}

/// @title BatchAttestationRegistry
/// @notice Records batches of zkxai attestations: one Groth16 proof and one transaction for up to 2**depth
///         predictions. The proof's public inputs are [root, count, context]: `root` is the Poseidon Merkle root
///         over one leaf per prediction, `count` the number of predictions (slots >= count are zero leaves), and
///         `context` = `AttestationContext.compute(address(this), msg.sender)`, which binds the proof to this chain, this
///         registry and the sender (a copied or replayed proof does not verify).
/// @dev Leaf of a prediction = Poseidon6(modelHash >> 128, modelHash & (2**128 - 1), inputDigest,
///      predictionDigest, predictedClass, explanationDigest), i.e. the hash of the public inputs a single
///      attestation of it would have; inner node = Poseidon2(left, right). The circuit (circuits/batch.py) proves,
///      for each of the `count` leaves, the same statement as the single attestation circuit. A consumer checks
///      one prediction alone with `isAttestedLeafBy` (or `verifyInclusion` for a precomputed leaf), given its index
///      and Merkle path (siblings from the leaf level up; bit k of the index set = running node is the right child),
///      and the attester it trusts: `isAttestedLeafBy(attester, ...)`. The proof does not show that the model
///      computed the committed scores, so a batch is as trustworthy as its attester.
///
///      Revocation (same rules and reason codes as AttestationRegistry: 0 unspecified, 1 model found faulty,
///      2 input invalid, 3 key or node compromised, 4 superseded):
///      - `revokeLeaf(root, index, reason)`: one prediction (the slot `index` of batch `root`); by the batch's
///        attester only. A slot is revoked, not a leaf value: the path is not needed to revoke, and the
///        same statement recorded again in another batch is another slot.
///      - `revokeBatch(root, reason)`: every prediction of the batch; by the batch's attester only.
///      - `revokeModel(modelHash, reason)`: every prediction of the model, past and future; owner only. The
///        registry cannot see which model a leaf commits to (the proof's public inputs are [root, count, context]),
///        so model revocation is enforced where a leaf is opened: `isAttestedLeafBy` takes the model hash (and the
///        digests) and is false for a revoked model; `isValidLeafBy`, given a bare leaf, cannot check it (its
///        caller must check `modelRevocation` against the leaf's opening).
///      Revocation is final. Proofs stay verifiable: `verifyInclusion` keeps answering inclusion only.
contract BatchAttestationRegistry {
    /// @notice Scalar field modulus r of BN254: every public input and tree value must be below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Public inputs of the batch circuit: [root, count, context].
    uint256 internal constant PUBLIC_INPUTS = 3;
    /// @notice Deepest tree accepted at deployment.
    uint8 internal constant MAX_DEPTH = 32;
    /// @dev Known answers checked at deployment: Poseidon2(1, 2) and Poseidon6(1, ..., 6) (circomlib's constants).
    uint256 internal constant POSEIDON2_1_2 = 0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a;
    uint256 internal constant POSEIDON6_1_6 = 0x2d1a03850084442813c8ebf094dea47538490a68b05f2239134a4cca2f6302e1;

    /// @notice One verified batch, as stored (two slots; the root is the key).
    /// @param attester Account that submitted the proof.
    /// @param count Number of predictions (leaves 0..count-1).
    /// @param timestamp Timestamp of the recording block.
    /// @param blockNumber Number of the recording block (where the `BatchAttested` event lives).
    struct Batch {
        address attester;
        uint64 count;
        uint64 timestamp;
        uint64 blockNumber;
    }

    /// @notice A revocation, as stored (one slot).
    struct Revocation {
        bool revoked;
        uint48 revokedAt;
        uint16 reason;
    }

    /// @notice Emitted once per batch with the full proof, so anyone can re-verify it off-chain.
    /// @param batchId keccak256(abi.encode(root, count)).
    /// @param root Merkle root of the batch's leaves.
    /// @param count Number of predictions in the batch.
    /// @param attester Account that submitted the proof.
    /// @param proof Proof words in calldata order: a0, a1, b00, b01, b10, b11, c0, c1 (EIP-197 G2 order).
    event BatchAttested(
        bytes32 indexed batchId, uint256 root, uint256 count, address indexed attester, uint256[8] proof
    );

    /// @notice Emitted when prediction `index` of a batch is revoked.
    /// @param batchId The batch's id.
    /// @param index The revoked slot.
    /// @param revoker The batch's attester.
    /// @param root The batch's root.
    /// @param reason Reason code.
    event LeafRevoked(
        bytes32 indexed batchId, uint256 indexed index, address indexed revoker, uint256 root, uint16 reason
    );

    /// @notice Emitted when a whole batch is revoked: all its predictions become invalid.
    event BatchRevoked(bytes32 indexed batchId, address indexed revoker, uint256 root, uint16 reason);

    /// @notice Emitted when the owner revokes a model: every leaf committing to it becomes invalid.
    event ModelRevoked(bytes32 indexed modelHash, address indexed revoker, uint16 reason);

    /// @notice Emitted when the owner role changes hands (also at deployment, from the zero address).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The verifier does not take exactly two public inputs, or an address holds no contract.
    error VerifierMismatch();
    /// @notice A hasher address does not compute circomlib's Poseidon (known-answer check failed).
    error HasherMismatch();
    /// @notice The tree depth given at deployment is 0 or above MAX_DEPTH.
    error InvalidDepth(uint256 depth);
    /// @notice The root is not a scalar field element.
    error FieldOverflow();
    /// @notice count is 0 or larger than the tree.
    error CountOutOfRange(uint256 count);
    /// @notice A batch with this root was already recorded.
    error AlreadyAttested(bytes32 batchId);
    /// @notice The Groth16 proof does not verify for [root, count].
    error InvalidProof();
    /// @notice No batch with this id.
    error UnknownBatch(bytes32 batchId);
    /// @notice No batch with this root.
    error UnknownRoot(uint256 root);
    /// @notice The slot is not a prediction of the batch (index >= count).
    error IndexOutOfRange(uint256 index, uint256 count);
    /// @notice The caller may not do this (leaf or batch revocation: the batch's attester; model
    ///         revocation and ownership: the owner).
    error NotAuthorized(address caller);
    /// @notice Already revoked: the slot (id `slotId(root, index)`), the batch (its batch id) or the model (its hash).
    error AlreadyRevoked(bytes32 idOrModel);
    /// @notice The zero address cannot own the registry.
    error ZeroAddress();

    IGroth16Verifier private immutable _verifier;
    IPoseidonT3 private immutable _poseidon2;
    IPoseidonT7 private immutable _poseidon6;
    uint8 private immutable _depth;

    mapping(uint256 => Batch) private _batches;
    mapping(bytes32 => uint256) private _rootOf;
    uint256 private _batchCount;
    address private _owner;
    /// @dev Keyed by root.
    mapping(uint256 => Revocation) private _batchRevocations;
    /// @dev Keyed by slotId(root, index).
    mapping(bytes32 => Revocation) private _leafRevocations;
    mapping(bytes32 => Revocation) private _modelRevocations;

    /// @param verifier_ Groth16 verifier holding the batch circuit's key (three public inputs).
    /// @param poseidon2_ Deployed PoseidonT3 (contracts/build/PoseidonT3.json).
    /// @param poseidon6_ Deployed PoseidonT7 (contracts/build/PoseidonT7.json).
    /// @param depth_ Depth of the circuit's tree (log2 of its slot count); Merkle paths have exactly this length.
    ///        The deployer becomes the owner.
    constructor(address verifier_, address poseidon2_, address poseidon6_, uint8 depth_) {
        if (depth_ == 0 || depth_ > MAX_DEPTH) revert InvalidDepth(depth_);
        if (verifier_.code.length == 0) revert VerifierMismatch();
        try IGroth16Verifier(verifier_).publicInputCount() returns (uint256 n) {
            if (n != PUBLIC_INPUTS) revert VerifierMismatch();
        } catch {
            revert VerifierMismatch();
        }
        if (poseidon2_.code.length == 0 || poseidon6_.code.length == 0) revert HasherMismatch();
        try IPoseidonT3(poseidon2_).poseidon([uint256(1), 2]) returns (uint256 h) {
            if (h != POSEIDON2_1_2) revert HasherMismatch();
        } catch {
            revert HasherMismatch();
        }
        try IPoseidonT7(poseidon6_).poseidon([uint256(1), 2, 3, 4, 5, 6]) returns (uint256 h) {
            if (h != POSEIDON6_1_6) revert HasherMismatch();
        } catch {
            revert HasherMismatch();
        }
        _verifier = IGroth16Verifier(verifier_);
        _poseidon2 = IPoseidonT3(poseidon2_);
        _poseidon6 = IPoseidonT7(poseidon6_);
        _depth = depth_;
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Record a batch after verifying its proof for public inputs [root, count, attestationContext(msg.sender)];
    ///         the sender becomes the batch's attester.
    /// @return batchId keccak256(abi.encode(root, count)).
    function attestBatch(
        uint256 root,
        uint256 count,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external returns (bytes32 batchId) {
        if (root >= R) revert FieldOverflow();
        if (count == 0 || count > (uint256(1) << _depth)) revert CountOutOfRange(count);
        batchId = keccak256(abi.encode(root, count));
        if (_batches[root].blockNumber != 0) revert AlreadyAttested(batchIdOf(root));

        uint256[] memory input = new uint256[](PUBLIC_INPUTS);
        input[0] = root;
        input[1] = count;
        input[2] = AttestationContext.compute(address(this), msg.sender);
        if (!_verifier.verifyProof(a, b, c, input)) revert InvalidProof();

        _batches[root] = Batch({
            attester: msg.sender,
            count: uint64(count),
            timestamp: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        _rootOf[batchId] = root;
        unchecked {
            ++_batchCount;
        }
        emit BatchAttested(
            batchId, root, count, msg.sender, [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]
        );
    }

    /// @notice Revoke prediction `index` of batch `root` with a reason code; by the batch's attester only.
    function revokeLeaf(uint256 root, uint256 index, uint16 reason) external {
        Batch storage record = _recorded(root);
        if (index >= record.count) revert IndexOutOfRange(index, record.count);
        bytes32 slot = slotId(root, index);
        Revocation storage r = _leafRevocations[slot];
        if (r.revoked) revert AlreadyRevoked(slot);
        r.revoked = true;
        r.revokedAt = uint48(block.timestamp);
        r.reason = reason;
        emit LeafRevoked(keccak256(abi.encode(root, uint256(record.count))), index, msg.sender, root, reason);
    }

    /// @notice Revoke every prediction of batch `root` with a reason code; by the batch's attester only.
    function revokeBatch(uint256 root, uint16 reason) external {
        Batch storage record = _recorded(root);
        bytes32 id = keccak256(abi.encode(root, uint256(record.count)));
        Revocation storage r = _batchRevocations[root];
        if (r.revoked) revert AlreadyRevoked(id);
        r.revoked = true;
        r.revokedAt = uint48(block.timestamp);
        r.reason = reason;
        emit BatchRevoked(id, msg.sender, root, reason);
    }

    /// @notice Revoke every prediction of model `modelHash`, past and future; owner only. Enforced by
    ///         `isAttestedLeafBy` (which is given the model); see the contract's notes.
    function revokeModel(bytes32 modelHash, uint16 reason) external {
        if (msg.sender != _owner) revert NotAuthorized(msg.sender);
        Revocation storage r = _modelRevocations[modelHash];
        if (r.revoked) revert AlreadyRevoked(modelHash);
        r.revoked = true;
        r.revokedAt = uint48(block.timestamp);
        r.reason = reason;
        emit ModelRevoked(modelHash, msg.sender, reason);
    }

    /// @notice Hand the owner role to `newOwner` (not the zero address); owner only.
    function transferOwnership(address newOwner) external {
        if (msg.sender != _owner) revert NotAuthorized(msg.sender);
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }

    /// @notice The stored batch `batchId` and its root; reverts UnknownBatch if none.
    function getBatch(bytes32 batchId) external view returns (uint256 root, Batch memory record) {
        root = _rootOf[batchId];
        record = _batches[root];
        if (record.blockNumber == 0 || keccak256(abi.encode(root, uint256(record.count))) != batchId) {
            revert UnknownBatch(batchId);
        }
    }

    /// @notice True iff a batch with this root was recorded.
    function isBatchRoot(uint256 root) external view returns (bool) {
        return _batches[root].blockNumber != 0;
    }

    /// @notice The id of the batch recorded with `root` (zero if none).
    function batchIdOf(uint256 root) public view returns (bytes32) {
        Batch storage record = _batches[root];
        if (record.blockNumber == 0) return bytes32(0);
        return keccak256(abi.encode(root, uint256(record.count)));
    }

    /// @notice True iff `leaf` is prediction `index` of the recorded batch `root`: the batch exists,
    ///         index < count, leaf is a non-zero field element and `path` (exactly depth siblings, leaf level
    ///         first, each a field element) hashes it up to `root`. Malformed input gives false, never a revert.
    function verifyInclusion(uint256 root, uint256 leaf, uint256 index, uint256[] calldata path)
        public
        view
        returns (bool)
    {
        Batch storage record = _batches[root];
        if (record.blockNumber == 0 || index >= record.count) return false;
        if (leaf == 0 || leaf >= R || path.length != _depth) return false;
        uint256 node = leaf;
        for (uint256 k = 0; k < path.length; ++k) {
            uint256 sibling = path[k];
            if (sibling >= R) return false;
            node = ((index >> k) & 1) == 1 ? _poseidon2.poseidon([sibling, node]) : _poseidon2.poseidon([node, sibling]);
        }
        return node == root;
    }

    /// @notice The leaf of a prediction: Poseidon6 of the public inputs its single attestation would have.
    ///         Reverts FieldOverflow if a digest or the class is not a field element.
    function leafOf(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest
    ) public view returns (uint256) {
        if (inputDigest >= R || predictionDigest >= R || predictedClass >= R || explanationDigest >= R) {
            revert FieldOverflow();
        }
        return _poseidon6.poseidon(
            [
                uint256(modelHash) >> 128,
                uint256(modelHash) & type(uint128).max,
                inputDigest,
                predictionDigest,
                predictedClass,
                explanationDigest
            ]
        );
    }

    /// @notice One-call consumer check: batch `root` was attested by `attester`, the prediction (model, three
    ///         digests, class) is its leaf `index`, and neither that prediction, its batch nor its model is revoked.
    function isAttestedLeafBy(
        address attester,
        uint256 root,
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest,
        uint256 index,
        uint256[] calldata path
    ) external view returns (bool) {
        if (inputDigest >= R || predictionDigest >= R || predictedClass >= R || explanationDigest >= R) return false;
        if (_batches[root].attester != attester || attester == address(0)) return false;
        if (_modelRevocations[modelHash].revoked || _slotRevoked(root, index)) return false;
        uint256 leaf = leafOf(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest);
        return verifyInclusion(root, leaf, index, path);
    }

    /// @notice One-call check of a bare leaf: batch `root` was attested by `attester`,
    ///         `verifyInclusion(root, leaf, index, path)`, and neither the prediction nor its batch is revoked. The
    ///         leaf hides its model: check `modelRevocation` against the leaf's opening too (or use
    ///         `isAttestedLeafBy`, which does).
    function isValidLeafBy(address attester, uint256 root, uint256 leaf, uint256 index, uint256[] calldata path)
        external
        view
        returns (bool)
    {
        if (_batches[root].attester != attester || attester == address(0)) return false;
        if (_slotRevoked(root, index)) return false;
        return verifyInclusion(root, leaf, index, path);
    }

    /// @notice True iff prediction `index` of batch `root` is revoked, itself or with its whole batch (model-wide
    ///         revocation is `modelRevocation`). False for an unknown batch or slot.
    function isRevokedLeaf(uint256 root, uint256 index) external view returns (bool) {
        Batch storage record = _batches[root];
        return record.blockNumber != 0 && index < record.count && _slotRevoked(root, index);
    }

    /// @notice Revocation of the slot itself (not of its batch or model): (false, 0, 0) unless revoked.
    function leafRevocation(uint256 root, uint256 index)
        external
        view
        returns (bool revoked, uint48 revokedAt, uint16 reason)
    {
        Revocation storage r = _leafRevocations[slotId(root, index)];
        return (r.revoked, r.revokedAt, r.reason);
    }

    /// @notice Revocation of the whole batch `root`: (false, 0, 0) unless revoked.
    function batchRevocation(uint256 root) external view returns (bool revoked, uint48 revokedAt, uint16 reason) {
        Revocation storage r = _batchRevocations[root];
        return (r.revoked, r.revokedAt, r.reason);
    }

    /// @notice Model-wide revocation of `modelHash`: (false, 0, 0) unless the owner revoked it.
    function modelRevocation(bytes32 modelHash) external view returns (bool revoked, uint48 revokedAt, uint16 reason) {
        Revocation storage r = _modelRevocations[modelHash];
        return (r.revoked, r.revokedAt, r.reason);
    }

    /// @notice The id of slot `index` of batch `root` (key of its revocation): keccak256(abi.encode(root, index)).
    function slotId(uint256 root, uint256 index) public pure returns (bytes32) {
        return keccak256(abi.encode(root, index));
    }

    /// @notice The owner: may revoke a whole model, and hand the role over.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice The verifier holding the batch circuit's key.
    function verifier() external view returns (address) {
        return address(_verifier);
    }

    /// @notice The Poseidon contracts used for nodes (2 inputs) and leaves (6 inputs).
    function hashers() external view returns (address poseidon2, address poseidon6) {
        return (address(_poseidon2), address(_poseidon6));
    }

    /// @notice Depth of the batch tree (Merkle paths have this many siblings; a batch holds up to 2**depth).
    function treeDepth() external view returns (uint256) {
        return _depth;
    }

    /// @notice Number of batches recorded.
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @notice The context public input a batch proof must carry to be accepted from `attester` here.
    function attestationContext(address attester) external view returns (uint256) {
        return AttestationContext.compute(address(this), attester);
    }

    /// @dev The recorded batch `root`, after checking the caller may revoke in it (its attester only).
    function _recorded(uint256 root) private view returns (Batch storage record) {
        record = _batches[root];
        if (record.blockNumber == 0) revert UnknownRoot(root);
        if (msg.sender != record.attester) revert NotAuthorized(msg.sender);
    }

    /// @dev The slot or its whole batch is revoked.
    function _slotRevoked(uint256 root, uint256 index) private view returns (bool) {
        return _batchRevocations[root].revoked || _leafRevocations[slotId(root, index)].revoked;
    }
}
