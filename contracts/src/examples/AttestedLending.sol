// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAttestationRegistry} from "../IAttestationRegistry.sol";

/// @title AttestedLending
/// @notice Example consumer of the zkxai registry: a lender that opens a credit line only on an attested,
///         non-revoked prediction of an allowed model whose predicted class is in an approved set.
/// @dev Policy, all checked in `eligibility` at the moment of acting:
///      - the attestation is valid in the registry (exists; neither it nor its model revoked);
///      - its model is on the lender's allow-list (`setModel`);
///      - its class is approved: bit `predictedClass` of `approvedClasses` (classes 0..255);
///      - its attester is a trusted scoring node (`setAttester`), and the caller is that attester, checked with the
///        registry's gate `isAttestedPredictionBy(msg.sender, model, class, id)`: the proof does not show that the
///        model computed the prediction, so a record is worth what its attester is; and the zkxai statement names
///        no borrower, so only the node that scored the application may open the loan for it;
///      - it is at most `maxAge` seconds old (0 = no limit) and has not been used before (one loan per attestation).
///      The model's confidence is not on chain (the circuit commits the scores, it does not reveal them), so
///      the policy acts on the class only: a lender wanting a confidence floor trains/publishes a model whose
///      classes encode it (e.g. "approve" only above a margin) and allows that model.
contract AttestedLending {
    /// @notice Outcome of the policy check for one attestation, `Eligible` or the first failing rule.
    enum Eligibility {
        Eligible,
        NotAttested,
        ModelNotAllowed,
        ClassNotApproved,
        AttesterNotTrusted,
        Expired,
        AlreadyUsed
    }

    /// @notice The registry holding the attestations.
    IAttestationRegistry public immutable registry;
    /// @notice Bit i set: predicted class i approves a loan.
    uint256 public immutable approvedClasses;
    /// @notice Maximum age of an attestation in seconds (0 = no limit).
    uint256 public immutable maxAge;
    /// @notice Largest loan one attestation can open.
    uint256 public immutable maxAmount;
    /// @notice May change the model and attester allow-lists.
    address public immutable owner;

    /// @notice Models whose predictions the lender acts on.
    mapping(bytes32 => bool) public modelAllowed;
    /// @notice Scoring nodes trusted to have scored the borrower's own application.
    mapping(address => bool) public attesterTrusted;
    /// @notice Borrower a used attestation opened a loan for (zero address while unused).
    mapping(bytes32 => address) public usedBy;
    /// @notice Total credit opened per borrower.
    mapping(address => uint256) public creditOf;

    /// @notice A loan was opened on attestation `attestationId`.
    event LoanApproved(
        bytes32 indexed attestationId,
        address indexed borrower,
        bytes32 indexed modelHash,
        uint256 predictedClass,
        uint256 amount
    );
    /// @notice A model was added to or removed from the allow-list.
    event ModelSet(bytes32 indexed modelHash, bool allowed);
    /// @notice A scoring node was trusted or distrusted.
    event AttesterSet(address indexed attester, bool trusted);

    /// @notice The attestation does not satisfy the policy (`reason` is the first failing rule).
    error NotEligible(bytes32 attestationId, Eligibility reason);
    /// @notice Only the attester of the attestation may open its loan.
    error NotTheAttester(address caller);
    /// @notice Amount is zero or above `maxAmount`.
    error BadAmount(uint256 amount);
    /// @notice Owner-only function.
    error NotOwner(address caller);
    /// @notice A loan needs a borrower.
    error ZeroBorrower();

    constructor(IAttestationRegistry registry_, uint256 approvedClasses_, uint256 maxAge_, uint256 maxAmount_) {
        registry = registry_;
        approvedClasses = approvedClasses_;
        maxAge = maxAge_;
        maxAmount = maxAmount_;
        owner = msg.sender;
    }

    /// @notice Allow or disallow a model.
    function setModel(bytes32 modelHash, bool allowed) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        modelAllowed[modelHash] = allowed;
        emit ModelSet(modelHash, allowed);
    }

    /// @notice Trust or distrust a scoring node.
    function setAttester(address attester, bool trusted) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        attesterTrusted[attester] = trusted;
        emit AttesterSet(attester, trusted);
    }

    /// @notice The policy verdict for attestation `attestationId` now (a read-only dry run of `approveLoan`).
    function eligibility(bytes32 attestationId) public view returns (Eligibility) {
        if (usedBy[attestationId] != address(0)) return Eligibility.AlreadyUsed;
        if (!registry.isAttested(attestationId)) return Eligibility.NotAttested;
        IAttestationRegistry.Attestation memory record = registry.getAttestation(attestationId);
        if (!modelAllowed[record.modelHash]) return Eligibility.ModelNotAllowed;
        if (record.predictedClass > 255 || (approvedClasses >> record.predictedClass) & 1 == 0) {
            return Eligibility.ClassNotApproved;
        }
        if (!attesterTrusted[record.attester]) return Eligibility.AttesterNotTrusted;
        if (maxAge != 0 && block.timestamp > uint256(record.timestamp) + maxAge) return Eligibility.Expired;
        return Eligibility.Eligible;
    }

    /// @notice Open a loan of `amount` for `borrower` on attestation `attestationId`; only its (trusted) attester.
    function approveLoan(bytes32 attestationId, address borrower, uint256 amount) external {
        if (amount == 0 || amount > maxAmount) revert BadAmount(amount);
        if (borrower == address(0)) revert ZeroBorrower();
        Eligibility verdict = eligibility(attestationId);
        if (verdict != Eligibility.Eligible) revert NotEligible(attestationId, verdict);
        IAttestationRegistry.Attestation memory record = registry.getAttestation(attestationId);
        // The registry's one-call gate, asked for the caller: valid, this model and class, attested by the caller
        // (anyone can attest something; only a trusted attester's record opens a loan, and only for that attester).
        if (!registry.isAttestedPredictionBy(msg.sender, record.modelHash, record.predictedClass, attestationId)) {
            revert NotTheAttester(msg.sender);
        }
        usedBy[attestationId] = borrower;
        creditOf[borrower] += amount;
        emit LoanApproved(attestationId, borrower, record.modelHash, record.predictedClass, amount);
    }
}
