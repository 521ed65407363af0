// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IAttestationRegistry
/// @notice Consumer interface of the zkxai attestation registry. Each record says: account `attester` submitted,
///         to this registry on this chain, a Groth16 proof that it knows salted openings of `inputDigest`,
///         `predictionDigest` and `explanationDigest` (BN254 scalar-field commitments to an input, the model's full
///         score vector and an attribution map) such that `predictedClass` is an argmax of the committed scores,
///         for the model `modelHash`. The registry never sees the underlying data.
/// @dev Public inputs of the proof, in order: [modelHash >> 128, modelHash & (2**128 - 1), inputDigest,
///      predictionDigest, predictedClass, explanationDigest, context], where `context` =
///      `AttestationContext.compute(address(this), msg.sender)` binds the proof to this chain, this registry and the
///      sender: a proof copied from a pending transaction, or replayed at another registry or chain, does not
///      verify. A record is written only after the proof verifies.
///
///      What the proof does NOT show: that the model computed those scores. Anyone can run the public proving key
///      on scores they made up, so a record is exactly as trustworthy as its attester. Hence consumers gate on the
///      attester they trust (see `examples/AttestedLending.sol`):
///      1. `isAttestedPredictionBy(attester, modelHash, predictedClass, id)` is the one-call gate: true only if
///         attestation `id` exists, was submitted by `attester`, is not revoked, its model is not revoked, and it
///         attests exactly that model and class. A consumer holds its own attester (or allow-list) and asks.
///      2. For more policy (maximum age, several attesters), read `getAttestation(id)` after `isAttested(id)`.
///      3. The statement names no beneficiary: a consumer must itself bind the attestation to whoever it acts for
///         (e.g. commit the beneficiary inside the model input), and should remember ids it has acted on, so one
///         attestation is not used twice.
///
///      Storage keeps only what on-chain consumers need (model, class, attester, times, revocation); the three
///      digests and the proof live in the `Attested` event, and `id` (a hash over all five statement fields)
///      binds the event's digests to the stored record.
///
///      Revocation: only the attester of a record can revoke it (`revoke`, with a reason code); the owner can
///      revoke a whole model (`revokeModel`), which invalidates all of its past attestations and refuses new ones.
///      Revocation is final; a revoked statement cannot be attested again.
interface IAttestationRegistry {
    /// @notice One verified attestation, as stored (three storage slots).
    /// @param modelHash 32-byte hash of the model (weights + architecture), split into two 128-bit public inputs.
    /// @param attester Account that submitted the proof.
    /// @param timestamp Timestamp of the block that recorded the attestation.
    /// @param blockNumber Number of the block that recorded the attestation (where its `Attested` event lives).
    /// @param predictedClass The predicted class index, public in clear (the circuit bounds it by its class count).
    /// @param revoked Whether this attestation was revoked (`revoke`; model-wide revocation is `modelRevocation`).
    /// @param revokedAt Timestamp of the revocation (0 while not revoked).
    /// @param revocationReason Reason code given at revocation (see `REASON_*` in the registry; 0 while not revoked).
    struct Attestation {
        bytes32 modelHash;
        address attester;
        uint48 timestamp;
        uint48 blockNumber;
        uint64 predictedClass;
        bool revoked;
        uint48 revokedAt;
        uint16 revocationReason;
    }

    /// @notice Emitted once per attestation, with the digests and the full proof so anyone can re-verify it off-chain.
    /// @param id Attestation id, see `attestationId`.
    /// @param modelHash The attested model.
    /// @param attester Account that submitted the proof.
    /// @param inputDigest Salted commitment to the model input.
    /// @param predictionDigest Salted commitment to the model output.
    /// @param predictedClass The predicted class index.
    /// @param explanationDigest Salted commitment to the attribution (explanation) map.
    /// @param proof Proof words in calldata order: a0, a1, b00, b01, b10, b11, c0, c1 (EIP-197 G2 order).
    event Attested(
        bytes32 indexed id,
        bytes32 indexed modelHash,
        address indexed attester,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest,
        uint256[8] proof
    );

    /// @notice Emitted when one attestation is revoked.
    /// @param id The revoked attestation.
    /// @param modelHash Its model.
    /// @param revoker The attester or the owner.
    /// @param reason Reason code.
    event Revoked(bytes32 indexed id, bytes32 indexed modelHash, address indexed revoker, uint16 reason);

    /// @notice Emitted when the owner revokes a model: all its attestations become invalid.
    event ModelRevoked(bytes32 indexed modelHash, address indexed revoker, uint16 reason);

    /// @notice Emitted when the owner role changes hands (also at deployment, from the zero address).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The proof did not verify for the given public inputs.
    error InvalidProof();
    /// @notice An attestation with this id already exists (revoked or not).
    error AlreadyAttested(bytes32 id);
    /// @notice A public input is not an element of the BN254 scalar field.
    error FieldOverflow();
    /// @notice The predicted class does not fit the record's 64-bit class field.
    error ClassOutOfRange(uint256 predictedClass);
    /// @notice No attestation with this id exists.
    error UnknownAttestation(bytes32 id);
    /// @notice The verifier given to the constructor does not expect exactly seven public inputs.
    error VerifierMismatch();
    /// @notice The caller may not perform this operation (revocation: the attester; model revocation: owner).
    error NotAuthorized(address caller);
    /// @notice The attestation (or model) is already revoked.
    error AlreadyRevoked(bytes32 idOrModel);
    /// @notice The model is revoked: no new attestation for it is accepted.
    error RevokedModel(bytes32 modelHash);
    /// @notice The zero address cannot own the registry.
    error ZeroAddress();

    /// @notice Verify a proof, made for `attestationContext(msg.sender)`, and record the attestation with the
    ///         sender as its attester.
    /// @return id The new attestation id.
    function attest(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external returns (bytes32 id);

    /// @notice Revoke attestation `id` with a reason code; callable by its attester only.
    function revoke(bytes32 id, uint16 reason) external;

    /// @notice Revoke every attestation of model `modelHash`, past and future; owner only.
    function revokeModel(bytes32 modelHash, uint16 reason) external;

    /// @notice The stored record of attestation `id`; reverts with `UnknownAttestation(id)` if there is none.
    ///         Revoked records are still returned (with `revoked` set); check `modelRevocation` for the model.
    function getAttestation(bytes32 id) external view returns (Attestation memory);

    /// @notice Whether attestation `id` exists and is valid: neither it nor its model is revoked.
    function isAttested(bytes32 id) external view returns (bool);

    /// @notice Whether attestation `id` exists and is revoked, itself or through its model.
    function isRevoked(bytes32 id) external view returns (bool);

    /// @notice Whether attestation `id` is valid (see `isAttested`), was submitted by `attester`, and attests class
    ///         `predictedClass` for model `modelHash`: the one-call check a consumer contract needs before acting
    ///         on a prediction (the attester is the party the consumer trusts; anyone can attest something).
    function isAttestedPredictionBy(address attester, bytes32 modelHash, uint256 predictedClass, bytes32 id)
        external
        view
        returns (bool);

    /// @notice The context public input a proof must carry to be accepted from `attester` at this registry on this
    ///         chain (see `AttestationContext`).
    function attestationContext(address attester) external view returns (uint256);

    /// @notice Model-wide revocation of `modelHash`: (false, 0, 0) unless the owner revoked it.
    function modelRevocation(bytes32 modelHash) external view returns (bool revoked, uint48 revokedAt, uint16 reason);

    /// @notice The id of an attestation: keccak256(abi.encode(modelHash, inputDigest, predictionDigest,
    ///         predictedClass, explanationDigest)). Identical statements share an id and can be recorded once.
    function attestationId(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest
    ) external pure returns (bytes32);

    /// @notice The Groth16 verifier every proof is checked against.
    function verifier() external view returns (address);

    /// @notice The owner: may revoke a whole model, and hand the role over.
    function owner() external view returns (address);

    /// @notice Number of attestations recorded so far (revoked ones included).
    function attestationCount() external view returns (uint256);
}
