// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {CountryCodes} from "./CountryCodes.sol";

/// @notice What the consortium pushes to its document registry on every change that affects
/// an issuer key's right to anchor (ADR 0021).
interface IAnchorAuthorityCache {
    function setAnchorAuthorities(ConsortiumRegistry.AnchorAuthority[] calldata updates) external;
}

/// @title ConsortiumRegistry
/// @notice Member administrations, their accounts (member accounts and per-type issuer keys,
/// each valid over a block range), M-of-N governance and mutual-recognition agreements.
/// Answers "was account A authorised to issue type T for country C at block B?" for any block.
/// See docs/contracts.md for the full interface.
contract ConsortiumRegistry {
    enum MemberStatus {
        None,
        Active,
        Suspended,
        Left
    }

    enum ProposalKind {
        AdmitMember,
        SuspendMember,
        ReadmitMember,
        ChangeQuorum,
        AddKey,
        RotateKey,
        RevokeKey,
        AddAgreement,
        WithdrawAgreement,
        SetEncryptionKey,
        AddAuditorKey,
        RemoveAuditorKey
    }

    /// @dev `Expired` is never stored: a `Pending` proposal past its deadline reads as it.
    enum ProposalState {
        None,
        Pending,
        Executed,
        Rejected,
        Withdrawn,
        Expired
    }

    struct Grant {
        uint64 validFrom;
        uint64 validUntil;
    }

    struct AgreementWindow {
        uint64 validFrom;
        uint64 validUntil;
    }

    struct GenesisMember {
        bytes2 country;
        string name;
        address account;
        bytes32 encryptionKey;
    }

    /// @notice A member's X25519 public key for confidential envelopes, in force over the
    /// blocks `[validFrom, validUntil)`; `keyId` is its 1-based position in the member's history.
    struct EncryptionKey {
        bytes32 publicKey;
        uint64 validFrom;
        uint64 validUntil;
    }

    struct GenesisKey {
        uint32 memberId;
        address account;
        bytes32 typeId;
    }

    struct GenesisAgreement {
        bytes2 verifierCountry;
        bytes2 issuerCountry;
        bytes32 typeId;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @dev `status` is the latest status, in force from block `statusFrom`; before that
    /// block `previousStatus` held (back to the previous checkpoint).
    struct Member {
        bytes2 country;
        MemberStatus status;
        MemberStatus previousStatus;
        uint64 statusFrom;
        string name;
    }

    struct StatusCheckpoint {
        uint64 fromBlock;
        MemberStatus status;
    }

    /// @notice An issuer key's right to anchor, as DocumentRegistry caches it: `account` may
    /// anchor `typeId` for `country` at every block B with `validFrom <= B < validUntil`, for
    /// blocks from the one that produced this value until the next update. Computed from the
    /// grants and the member's status (`authorityAt`); `validFrom = validUntil = 0`: never.
    struct AnchorAuthority {
        address account;
        bytes32 typeId;
        uint32 memberId;
        bytes2 country;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice The quorum is more than `numerator / denominator` of the voting members (at
    /// least one half, less than one); proposals can be voted on for `proposalLifetime` blocks.
    struct QuorumRule {
        uint32 numerator;
        uint32 denominator;
        uint64 proposalLifetime;
    }

    /// @notice What `proposalVotes` answers (see there).
    struct ProposalVotes {
        uint32 consenter;
        uint32 excluded;
        uint64 deadline;
        uint32 approvals;
        uint32 rejections;
        uint32 required;
    }

    struct IssuerKey {
        address account;
        bytes32 typeId;
    }

    /// @dev `consenter`: the member whose own approval the action needs (its keys, its
    /// country's agreements), 0 if none. `excluded`: the member a suspension targets, whose
    /// vote is not counted. `deadline`: the last block in which it can be voted on.
    struct Proposal {
        ProposalKind kind;
        ProposalState state;
        uint32 proposerMember;
        uint32 consenter;
        uint32 excluded;
        uint64 deadline;
        bytes payload;
        uint32[] approvers;
        uint32[] rejecters;
    }

    /// @notice The reserved role id of a member account (governance); never a document type.
    bytes32 public constant MEMBER_ACCOUNT = bytes32(0);
    uint64 private constant OPEN = type(uint64).max;

    /// @notice The quorum is more than `quorumNumerator / quorumDenominator` of the members
    /// that vote on a proposal (the active members, less a suspension's target), fixed at
    /// deployment: `floor(voters * numerator / denominator) + 1`, at most `voters`.
    uint32 public immutable quorumNumerator;
    uint32 public immutable quorumDenominator;
    /// @notice A proposal can be voted on for this many blocks after the one that created it.
    uint64 public immutable proposalLifetime;
    uint32 public memberCount;
    uint32 public activeMemberCount;
    uint256 public proposalCount;
    /// @notice The DocumentRegistry this consortium keeps informed (0 until one attaches).
    address public documentRegistry;
    /// @dev The account that sent the deployment transaction: the only one that may attach
    /// the document registry (from the registry's constructor, in its deployment transaction).
    address private immutable _deployer;

    mapping(uint32 memberId => Member) private _members;
    mapping(uint32 memberId => StatusCheckpoint[]) private _statusHistory;
    mapping(address account => uint32 memberId) public memberOf;
    mapping(address account => bytes32[] typeIds) private _typesOf;
    /// @dev Every (account, document type) that ever had an issuer grant, per member.
    mapping(uint32 memberId => IssuerKey[]) private _issuerKeys;
    mapping(address account => mapping(bytes32 typeId => Grant[])) private _grants;
    mapping(bytes32 agreementKey => AgreementWindow[]) private _agreements;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(uint32 memberId => bool)) public hasApproved;
    mapping(uint256 proposalId => mapping(uint32 memberId => bool)) public hasRejected;
    /// @notice The member of each country (a country has one member, for ever).
    mapping(bytes2 country => uint32 memberId) public memberOfCountry;
    mapping(uint32 memberId => EncryptionKey[]) private _encryptionKeys;
    /// @dev Auditor keys (`EncryptionKey` records): every confidential document sealed while
    /// one is in force is also sealed for it; key id = 1-based position; whose key it is is in
    /// its `AuditorKeyAdded` event.
    EncryptionKey[] private _auditorKeys;

    event ProposalCreated(
        uint256 indexed proposalId, uint32 indexed proposerMember, ProposalKind kind, bytes payload
    );
    event ProposalApproved(
        uint256 indexed proposalId, uint32 indexed memberId, uint32 approvals, uint32 quorum
    );
    event ProposalExecuted(uint256 indexed proposalId, ProposalKind kind);
    event ProposalRejected(
        uint256 indexed proposalId, uint32 indexed memberId, uint32 rejections, uint32 quorum
    );
    /// @notice A proposal ended without executing: `state` is `Rejected` or `Withdrawn`.
    event ProposalClosed(uint256 indexed proposalId, ProposalState state);
    event MemberLeft(uint32 indexed memberId);
    event EncryptionKeySet(
        uint32 indexed memberId,
        uint32 keyId,
        bytes32 publicKey,
        uint64 validFrom,
        uint256 proposalId
    );
    event AuditorKeyAdded(
        uint32 indexed auditorKeyId, string name, bytes32 publicKey, uint64 validFrom, uint256 proposalId
    );
    event AuditorKeyRemoved(uint32 indexed auditorKeyId, uint64 validUntil, uint256 proposalId);
    event MemberAdmitted(
        uint32 indexed memberId, bytes2 indexed country, string name, uint256 proposalId
    );
    event MemberSuspended(uint32 indexed memberId, uint256 proposalId);
    event MemberReadmitted(uint32 indexed memberId, uint256 proposalId);
    /// @notice Emitted once, by the constructor: the quorum fraction and proposal lifetime.
    event QuorumRuleSet(uint32 numerator, uint32 denominator, uint64 proposalLifetime);
    event KeyAdded(
        uint32 indexed memberId,
        address indexed account,
        bytes32 indexed typeId,
        uint64 validFrom,
        uint256 proposalId
    );
    event KeyRevoked(
        uint32 indexed memberId,
        address indexed account,
        bytes32 indexed typeId,
        uint64 validFrom,
        uint64 validUntil,
        uint256 proposalId
    );
    event AgreementAdded(
        bytes2 indexed verifierCountry,
        bytes2 indexed issuerCountry,
        bytes32 indexed typeId,
        uint64 validFrom,
        uint64 validUntil,
        uint256 proposalId
    );
    event DocumentRegistryAttached(address indexed registry);
    event AgreementWithdrawn(
        bytes2 indexed verifierCountry,
        bytes2 indexed issuerCountry,
        bytes32 indexed typeId,
        uint64 validUntil,
        uint256 proposalId
    );

    error NotMemberAccount(address account);
    error MemberNotActive(uint32 memberId);
    error MemberNotSuspended(uint32 memberId);
    error UnknownMember(uint32 memberId);
    error TooFewMembers(uint256 count);
    error InvalidQuorumRule(uint32 numerator, uint32 denominator, uint64 proposalLifetime);
    error QuorumUnreachable(uint32 quorum, uint32 activeMembersAfter);
    error QuorumNotReached(uint256 proposalId, uint32 approvals, uint32 quorum);
    error ConsentMissing(uint256 proposalId, uint32 memberId);
    error ProposalExpired(uint256 proposalId, uint64 deadline);
    error ProposalClosedAlready(uint256 proposalId, ProposalState state);
    error AlreadyRejected(uint256 proposalId, uint32 memberId);
    error NotProposer(uint256 proposalId, uint32 memberId, uint32 proposerMember);
    error CountryTaken(bytes2 country, uint32 memberId);
    error NoMemberForCountry(bytes2 country);
    error LastMember(uint32 memberId);
    error ZeroEncryptionKey();
    error EmptyName();
    error UnknownAuditorKey(uint32 auditorKeyId);
    error ZeroAccount();
    error AccountBoundToOtherMember(address account, uint32 memberId);
    error AccountNotOfMember(address account, uint32 memberId);
    error KeyAlreadyActive(address account, bytes32 typeId);
    error KeyNotActive(address account, bytes32 typeId);
    error InvalidValidity(uint64 validFrom, uint64 validUntil);
    error AgreementAlreadyInForce(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId);
    error AgreementNotInForce(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId);
    error UnknownProposal(uint256 proposalId);
    error ProposalAlreadyExecuted(uint256 proposalId);
    error AlreadyApproved(uint256 proposalId, uint32 memberId);
    error RegistryAlreadyAttached(address registry);
    error AttachRefused(address origin, address caller);

    constructor(
        GenesisMember[] memory members,
        GenesisKey[] memory keys,
        GenesisAgreement[] memory agreements,
        QuorumRule memory rule
    ) {
        uint32 numerator = rule.numerator;
        uint32 denominator = rule.denominator;
        uint64 lifetime = rule.proposalLifetime;
        // solhint-disable-next-line avoid-tx-origin
        _deployer = tx.origin;
        // more than half at least: two disjoint groups can never both reach the quorum
        if (denominator == 0 || numerator >= denominator || 2 * uint64(numerator) < denominator
            || lifetime == 0) revert InvalidQuorumRule(numerator, denominator, lifetime);
        quorumNumerator = numerator;
        quorumDenominator = denominator;
        proposalLifetime = lifetime;
        emit QuorumRuleSet(numerator, denominator, lifetime);
        if (members.length < 2) revert TooFewMembers(members.length);
        for (uint256 i = 0; i < members.length; i++) {
            _checkAdmit(members[i].country, members[i].name, members[i].account);
            _admit(members[i].country, members[i].name, members[i].account, 0);
            if (members[i].encryptionKey != bytes32(0)) {
                _setEncryptionKey(uint32(i + 1), members[i].encryptionKey, 0);
            }
        }
        for (uint256 i = 0; i < keys.length; i++) {
            _checkAddKey(keys[i].memberId, keys[i].account, keys[i].typeId);
            _addKey(keys[i].memberId, keys[i].account, keys[i].typeId, 0);
        }
        for (uint256 i = 0; i < agreements.length; i++) {
            GenesisAgreement memory a = agreements[i];
            _checkAddAgreement(a.verifierCountry, a.issuerCountry, a.typeId, a.validFrom, a.validUntil);
            _addAgreement(a.verifierCountry, a.issuerCountry, a.typeId, a.validFrom, a.validUntil, 0);
        }
    }

    // ------------------------------------------------------------------ governance

    function proposeAdmitMember(bytes2 country, string calldata name, address account)
        external
        returns (uint256)
    {
        _checkAdmit(country, name, account);
        return _propose(ProposalKind.AdmitMember, abi.encode(country, name, account), 0, 0);
    }

    /// @notice Suspension for cause: the one action on a member taken without its approval
    /// (it only removes rights). The target's vote is not counted.
    function proposeSuspendMember(uint32 memberId) external returns (uint256) {
        _checkSuspend(memberId);
        return _propose(ProposalKind.SuspendMember, abi.encode(memberId), 0, memberId);
    }

    function proposeReadmitMember(uint32 memberId) external returns (uint256) {
        _checkReadmit(memberId);
        return _propose(ProposalKind.ReadmitMember, abi.encode(memberId), 0, 0);
    }

    /// @notice Keys of member `memberId` change only with its own approval plus the quorum.
    function proposeAddKey(uint32 memberId, address account, bytes32 typeId)
        external
        returns (uint256)
    {
        _checkAddKey(memberId, account, typeId);
        return _propose(ProposalKind.AddKey, abi.encode(memberId, account, typeId), memberId, 0);
    }

    function proposeRotateKey(
        uint32 memberId,
        address oldAccount,
        address newAccount,
        bytes32 typeId
    ) external returns (uint256) {
        _checkRotateKey(memberId, oldAccount, newAccount, typeId);
        return _propose(
            ProposalKind.RotateKey,
            abi.encode(memberId, oldAccount, newAccount, typeId),
            memberId,
            0
        );
    }

    function proposeRevokeKey(uint32 memberId, address account, bytes32 typeId)
        external
        returns (uint256)
    {
        _checkRevokeKey(memberId, account, typeId);
        return _propose(
            ProposalKind.RevokeKey, abi.encode(memberId, account, typeId), memberId, 0
        );
    }

    /// @notice Replaces member `memberId`'s encryption public key (X25519); the old one stays
    /// in the history under its key id so that envelopes sealed for it can still be opened.
    function proposeSetEncryptionKey(uint32 memberId, bytes32 publicKey)
        external
        returns (uint256)
    {
        _checkSetEncryptionKey(memberId, publicKey);
        return _propose(
            ProposalKind.SetEncryptionKey, abi.encode(memberId, publicKey), memberId, 0
        );
    }

    /// @notice Adds an auditor recipient to every confidential document sealed from then on:
    /// a consortium decision (the quorum; no single member's consent decides it).
    function proposeAddAuditorKey(string calldata name, bytes32 publicKey)
        external
        returns (uint256)
    {
        _checkAddAuditorKey(name, publicKey);
        return _propose(ProposalKind.AddAuditorKey, abi.encode(name, publicKey), 0, 0);
    }

    /// @notice Stops sealing for auditor key `auditorKeyId` (documents sealed before stay
    /// readable by it).
    function proposeRemoveAuditorKey(uint32 auditorKeyId) external returns (uint256) {
        _checkRemoveAuditorKey(auditorKeyId);
        return _propose(ProposalKind.RemoveAuditorKey, abi.encode(auditorKeyId), 0, 0);
    }

    function proposeAddAgreement(
        bytes2 verifierCountry,
        bytes2 issuerCountry,
        bytes32 typeId,
        uint64 validFrom,
        uint64 validUntil
    ) external returns (uint256) {
        _checkAddAgreement(verifierCountry, issuerCountry, typeId, validFrom, validUntil);
        return _propose(
            ProposalKind.AddAgreement,
            abi.encode(verifierCountry, issuerCountry, typeId, validFrom, validUntil),
            _recogniser(verifierCountry),
            0
        );
    }

    function proposeWithdrawAgreement(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId)
        external
        returns (uint256)
    {
        _checkWithdrawAgreement(verifierCountry, issuerCountry, typeId);
        return _propose(
            ProposalKind.WithdrawAgreement,
            abi.encode(verifierCountry, issuerCountry, typeId),
            _recogniser(verifierCountry),
            0
        );
    }

    /// @notice Adds the approval of the caller's member; executes once the quorum is reached
    /// (and the consenting member, if the action needs one, has approved).
    function approve(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        uint32 memberId = _governingMember(msg.sender);
        if (hasApproved[proposalId][memberId]) revert AlreadyApproved(proposalId, memberId);
        if (hasRejected[proposalId][memberId]) revert AlreadyRejected(proposalId, memberId);
        _approveAndMaybeExecute(proposalId, p, memberId);
    }

    /// @notice Votes no. The proposal ends `Rejected` when its consenting member votes no, or
    /// when so many voters said no that the approvals can no longer reach the quorum.
    function reject(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        uint32 memberId = _governingMember(msg.sender);
        if (hasApproved[proposalId][memberId]) revert AlreadyApproved(proposalId, memberId);
        if (hasRejected[proposalId][memberId]) revert AlreadyRejected(proposalId, memberId);
        hasRejected[proposalId][memberId] = true;
        p.rejecters.push(memberId);
        uint32 rejections = rejectionCount(proposalId);
        uint32 voters = _voters(p);
        uint32 required = _required(voters);
        emit ProposalRejected(proposalId, memberId, rejections, required);
        if (memberId == p.consenter || rejections > voters - required) {
            p.state = ProposalState.Rejected;
            emit ProposalClosed(proposalId, ProposalState.Rejected);
        }
    }

    /// @notice The proposer's member takes its proposal back.
    function withdraw(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        uint32 memberId = _governingMember(msg.sender);
        if (memberId != p.proposerMember) {
            revert NotProposer(proposalId, memberId, p.proposerMember);
        }
        p.state = ProposalState.Withdrawn;
        emit ProposalClosed(proposalId, ProposalState.Withdrawn);
    }

    /// @notice Executes a proposal whose approvals reach the quorum now (after members left or
    /// were suspended, the quorum may have dropped below approvals already given).
    function execute(uint256 proposalId) external {
        Proposal storage p = _openProposal(proposalId);
        _governingMember(msg.sender);
        uint32 approvals = approvalCount(proposalId);
        uint32 required = _required(_voters(p));
        if (approvals < required) revert QuorumNotReached(proposalId, approvals, required);
        if (p.consenter != 0 && !hasApproved[proposalId][p.consenter]) {
            revert ConsentMissing(proposalId, p.consenter);
        }
        _executeProposal(proposalId, p);
    }

    /// @notice The caller's member leaves the consortium, for good: its accounts and keys lose
    /// every right from the next block (their history stays), and the quorum is recomputed.
    /// The last active member cannot leave.
    function leaveConsortium() external {
        uint32 memberId = _governingMember(msg.sender);
        if (activeMemberCount <= 1) revert LastMember(memberId);
        _setStatus(memberId, MemberStatus.Left);
        activeMemberCount--;
        emit MemberLeft(memberId);
    }

    /// @notice Binds the document registry, once: called by DocumentRegistry's constructor in
    /// a transaction sent by the account that deployed this consortium. Returns the anchoring
    /// rights of every issuer key so far; every later change is pushed to the registry.
    function attachDocumentRegistry() external returns (AnchorAuthority[] memory current) {
        if (documentRegistry != address(0)) revert RegistryAlreadyAttached(documentRegistry);
        // tx.origin authenticates the deployment transaction's sender for this one-time
        // binding only; authority over documents never depends on it.
        // solhint-disable-next-line avoid-tx-origin
        if (tx.origin != _deployer || msg.sender == tx.origin) {
            // solhint-disable-next-line avoid-tx-origin
            revert AttachRefused(tx.origin, msg.sender);
        }
        documentRegistry = msg.sender;
        emit DocumentRegistryAttached(msg.sender);
        uint256 total;
        for (uint32 m = 1; m <= memberCount; m++) {
            total += _issuerKeys[m].length;
        }
        current = new AnchorAuthority[](total);
        uint256 n;
        for (uint32 m = 1; m <= memberCount; m++) {
            IssuerKey[] storage keys = _issuerKeys[m];
            for (uint256 i = 0; i < keys.length; i++) {
                current[n++] = anchorAuthority(keys[i].account, keys[i].typeId);
            }
        }
    }

    // ------------------------------------------------------------------ views

    function member(uint32 memberId)
        external
        view
        returns (bytes2 country, string memory name, MemberStatus status)
    {
        Member storage m = _existingMember(memberId);
        return (m.country, m.name, m.status);
    }

    function memberStatusAt(uint32 memberId, uint256 blockNumber)
        public
        view
        returns (MemberStatus)
    {
        StatusCheckpoint[] storage history = _statusHistory[memberId];
        for (uint256 i = history.length; i > 0; i--) {
            if (history[i - 1].fromBlock <= blockNumber) return history[i - 1].status;
        }
        return MemberStatus.None;
    }

    function grants(address account, bytes32 typeId) external view returns (Grant[] memory) {
        return _grants[account][typeId];
    }

    function isAuthorised(address account, bytes32 typeId, bytes2 country, uint256 blockNumber)
        external
        view
        returns (bool)
    {
        (, bytes2 memberCountry, bool authorised) = authorityAt(account, typeId, blockNumber);
        return authorised && memberCountry == country;
    }

    /// @notice The member and country of `account`, and whether it could issue `typeId` at
    /// `blockNumber` (member active then, a grant for the type covering the block).
    function authorityAt(address account, bytes32 typeId, uint256 blockNumber)
        public
        view
        returns (uint32 memberId, bytes2 country, bool authorised)
    {
        memberId = memberOf[account];
        if (memberId == 0) return (0, bytes2(0), false);
        Member storage m = _members[memberId];
        country = m.country;
        if (typeId == MEMBER_ACCOUNT) return (memberId, country, false);
        authorised = _statusAt(memberId, m, blockNumber) == MemberStatus.Active
            && _grantCovers(_grants[account][typeId], blockNumber);
    }

    /// @notice The right of `account` to anchor `typeId` from the current block on, as pushed
    /// to the document registry: the window of blocks (from this one, until the next change)
    /// in which `authorityAt(account, typeId, B)` is true. Changes take effect from the next
    /// block, so the answer for this block and for the next ones is an interval.
    function anchorAuthority(address account, bytes32 typeId)
        public
        view
        returns (AnchorAuthority memory a)
    {
        uint32 memberId = memberOf[account];
        Member storage m = _members[memberId];
        a.account = account;
        a.typeId = typeId;
        a.memberId = memberId;
        a.country = m.country;
        if (memberId == 0 || typeId == MEMBER_ACCOUNT) return a;
        Grant[] storage history = _grants[account][typeId];
        uint64 current = uint64(block.number);
        bool now_ = _statusAt(memberId, m, current) == MemberStatus.Active
            && _grantCovers(history, current);
        // from the next block on: the latest status, and the last grant if it is open
        bool later = m.status == MemberStatus.Active && _isOpen(history);
        if (now_) {
            a.validFrom = current;
            a.validUntil = later ? OPEN : current + 1;
        } else if (later) {
            a.validFrom = current + 1;
            a.validUntil = OPEN;
        }
    }

    /// @notice Whether `account` was an active account (any grant) of an active member at
    /// `blockNumber`.
    function accountAt(address account, uint256 blockNumber)
        public
        view
        returns (uint32 memberId, bytes2 country, bool active)
    {
        memberId = memberOf[account];
        if (memberId == 0) return (0, bytes2(0), false);
        Member storage m = _members[memberId];
        country = m.country;
        if (_statusAt(memberId, m, blockNumber) != MemberStatus.Active) {
            return (memberId, country, false);
        }
        bytes32[] storage types = _typesOf[account];
        for (uint256 i = 0; i < types.length; i++) {
            if (_grantCovers(_grants[account][types[i]], blockNumber)) {
                return (memberId, country, true);
            }
        }
        return (memberId, country, false);
    }

    function recognises(
        bytes2 verifierCountry,
        bytes2 issuerCountry,
        bytes32 typeId,
        uint64 timestamp
    ) external view returns (bool) {
        AgreementWindow[] storage windows =
            _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)];
        for (uint256 i = windows.length; i > 0; i--) {
            AgreementWindow storage w = windows[i - 1];
            if (w.validFrom <= timestamp && (w.validUntil == 0 || timestamp < w.validUntil)) {
                return true;
            }
        }
        return false;
    }

    function agreementWindows(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId)
        external
        view
        returns (AgreementWindow[] memory)
    {
        return _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)];
    }

    function proposal(uint256 proposalId)
        external
        view
        returns (ProposalKind kind, ProposalState state, uint32 proposerMember, bytes memory payload)
    {
        Proposal storage p = _proposals[proposalId];
        if (p.state == ProposalState.None) revert UnknownProposal(proposalId);
        return (p.kind, _stateOf(p), p.proposerMember, p.payload);
    }

    /// @notice The voting rules of a proposal as they stand now: the member whose approval it
    /// needs (0: none), the member whose vote is not counted (a suspension's target), the last
    /// block it can be voted on, the counted approvals and rejections, and the quorum.
    function proposalVotes(uint256 proposalId) external view returns (ProposalVotes memory v) {
        Proposal storage p = _proposals[proposalId];
        if (p.state == ProposalState.None) revert UnknownProposal(proposalId);
        v.consenter = p.consenter;
        v.excluded = p.excluded;
        v.deadline = p.deadline;
        v.approvals = approvalCount(proposalId);
        v.rejections = rejectionCount(proposalId);
        v.required = _required(_voters(p));
    }

    /// @notice Distinct approving members that are active now (a suspension's target excluded).
    function approvalCount(uint256 proposalId) public view returns (uint32) {
        Proposal storage p = _proposals[proposalId];
        return _countActive(p.approvers, p.excluded);
    }

    /// @notice Distinct members that voted no and are active now (a suspension's target excluded).
    function rejectionCount(uint256 proposalId) public view returns (uint32) {
        Proposal storage p = _proposals[proposalId];
        return _countActive(p.rejecters, p.excluded);
    }

    /// @notice The approvals a proposal voted on by all active members needs now.
    function quorum() external view returns (uint32) {
        return _required(activeMemberCount);
    }

    /// @notice The approvals needed among `voters` voting members: more than the fraction.
    function requiredApprovals(uint32 voters) external view returns (uint32) {
        return _required(voters);
    }

    /// @notice The member's current encryption public key and its key id (0, 0: none).
    function encryptionKey(uint32 memberId)
        external
        view
        returns (uint32 keyId, bytes32 publicKey)
    {
        EncryptionKey[] storage history = _encryptionKeys[memberId];
        if (history.length == 0) return (0, bytes32(0));
        return (uint32(history.length), history[history.length - 1].publicKey);
    }

    /// @notice Every encryption key the member has had, oldest first (key id = index + 1).
    function encryptionKeys(uint32 memberId) external view returns (EncryptionKey[] memory) {
        return _encryptionKeys[memberId];
    }

    /// @notice Every auditor key ever added, oldest first (key id = index + 1); the ones in
    /// force have `validUntil` in the future.
    function auditorKeys() external view returns (EncryptionKey[] memory) {
        return _auditorKeys;
    }

    // ------------------------------------------------------------------ proposal machinery

    function _propose(ProposalKind kind, bytes memory payload, uint32 consenter, uint32 excluded)
        private
        returns (uint256 proposalId)
    {
        uint32 memberId = _governingMember(msg.sender);
        proposalId = ++proposalCount;
        Proposal storage p = _proposals[proposalId];
        p.kind = kind;
        p.state = ProposalState.Pending;
        p.proposerMember = memberId;
        p.consenter = consenter;
        p.excluded = excluded;
        p.deadline = uint64(block.number) + proposalLifetime;
        p.payload = payload;
        emit ProposalCreated(proposalId, memberId, kind, payload);
        _approveAndMaybeExecute(proposalId, p, memberId);
    }

    function _approveAndMaybeExecute(uint256 proposalId, Proposal storage p, uint32 memberId)
        private
    {
        hasApproved[proposalId][memberId] = true;
        p.approvers.push(memberId);
        uint32 approvals = approvalCount(proposalId);
        uint32 required = _required(_voters(p));
        emit ProposalApproved(proposalId, memberId, approvals, required);
        if (approvals >= required && (p.consenter == 0 || hasApproved[proposalId][p.consenter]))
        {
            _executeProposal(proposalId, p);
        }
    }

    function _executeProposal(uint256 proposalId, Proposal storage p) private {
        p.state = ProposalState.Executed;
        _execute(proposalId, p.kind, p.payload);
        emit ProposalExecuted(proposalId, p.kind);
    }

    function _execute(uint256 proposalId, ProposalKind kind, bytes memory payload) private {
        if (kind == ProposalKind.AdmitMember) {
            (bytes2 country, string memory name, address account) =
                abi.decode(payload, (bytes2, string, address));
            _checkAdmit(country, name, account);
            _admit(country, name, account, proposalId);
        } else if (kind == ProposalKind.SuspendMember) {
            uint32 memberId = abi.decode(payload, (uint32));
            _checkSuspend(memberId);
            _setStatus(memberId, MemberStatus.Suspended);
            activeMemberCount--;
            emit MemberSuspended(memberId, proposalId);
        } else if (kind == ProposalKind.ReadmitMember) {
            uint32 memberId = abi.decode(payload, (uint32));
            _checkReadmit(memberId);
            _setStatus(memberId, MemberStatus.Active);
            activeMemberCount++;
            emit MemberReadmitted(memberId, proposalId);
        } else if (kind == ProposalKind.AddKey) {
            (uint32 memberId, address account, bytes32 typeId) =
                abi.decode(payload, (uint32, address, bytes32));
            _checkAddKey(memberId, account, typeId);
            _addKey(memberId, account, typeId, proposalId);
        } else if (kind == ProposalKind.RotateKey) {
            (uint32 memberId, address oldAccount, address newAccount, bytes32 typeId) =
                abi.decode(payload, (uint32, address, address, bytes32));
            _checkRotateKey(memberId, oldAccount, newAccount, typeId);
            _revokeKey(memberId, oldAccount, typeId, proposalId);
            _addKey(memberId, newAccount, typeId, proposalId);
        } else if (kind == ProposalKind.RevokeKey) {
            (uint32 memberId, address account, bytes32 typeId) =
                abi.decode(payload, (uint32, address, bytes32));
            _checkRevokeKey(memberId, account, typeId);
            _revokeKey(memberId, account, typeId, proposalId);
        } else if (kind == ProposalKind.AddAgreement) {
            (bytes2 v, bytes2 i, bytes32 typeId, uint64 validFrom, uint64 validUntil) =
                abi.decode(payload, (bytes2, bytes2, bytes32, uint64, uint64));
            _checkAddAgreement(v, i, typeId, validFrom, validUntil);
            _addAgreement(v, i, typeId, validFrom, validUntil, proposalId);
        } else if (kind == ProposalKind.WithdrawAgreement) {
            (bytes2 v, bytes2 i, bytes32 typeId) = abi.decode(payload, (bytes2, bytes2, bytes32));
            _checkWithdrawAgreement(v, i, typeId);
            _withdrawAgreement(v, i, typeId, proposalId);
        } else if (kind == ProposalKind.AddAuditorKey) {
            (string memory name, bytes32 publicKey) = abi.decode(payload, (string, bytes32));
            _checkAddAuditorKey(name, publicKey);
            uint64 next = _nextBlock();
            _auditorKeys.push(EncryptionKey({publicKey: publicKey, validFrom: next, validUntil: OPEN}));
            emit AuditorKeyAdded(uint32(_auditorKeys.length), name, publicKey, next, proposalId);
        } else if (kind == ProposalKind.RemoveAuditorKey) {
            uint32 auditorKeyId = abi.decode(payload, (uint32));
            _checkRemoveAuditorKey(auditorKeyId);
            uint64 next = _nextBlock();
            _auditorKeys[auditorKeyId - 1].validUntil = next;
            emit AuditorKeyRemoved(auditorKeyId, next, proposalId);
        } else {
            // SetEncryptionKey (ChangeQuorum is retired: the quorum rule is fixed at deployment
            // and no proposal of that kind can be made)
            (uint32 memberId, bytes32 publicKey) = abi.decode(payload, (uint32, bytes32));
            _checkSetEncryptionKey(memberId, publicKey);
            _setEncryptionKey(memberId, publicKey, proposalId);
        }
    }

    /// @dev A proposal that can still be voted on: pending and not past its deadline.
    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.state == ProposalState.None) revert UnknownProposal(proposalId);
        if (p.state == ProposalState.Executed) revert ProposalAlreadyExecuted(proposalId);
        if (p.state != ProposalState.Pending) revert ProposalClosedAlready(proposalId, p.state);
        if (block.number > p.deadline) revert ProposalExpired(proposalId, p.deadline);
    }

    function _stateOf(Proposal storage p) private view returns (ProposalState) {
        if (p.state == ProposalState.Pending && block.number > p.deadline) {
            return ProposalState.Expired;
        }
        return p.state;
    }

    /// @dev The members that vote on `p` now: the active ones, less a suspension's target.
    function _voters(Proposal storage p) private view returns (uint32 voters) {
        voters = activeMemberCount;
        if (p.excluded != 0 && _members[p.excluded].status == MemberStatus.Active) voters--;
    }

    /// @dev More than `quorumNumerator / quorumDenominator` of `voters`, at least one.
    function _required(uint32 voters) private view returns (uint32) {
        uint256 required = uint256(voters) * quorumNumerator / quorumDenominator + 1;
        if (required > voters) required = voters;
        return required == 0 ? 1 : uint32(required);
    }

    function _countActive(uint32[] storage memberIds, uint32 excluded)
        private
        view
        returns (uint32 count)
    {
        for (uint256 i = 0; i < memberIds.length; i++) {
            uint32 m = memberIds[i];
            if (m != excluded && _members[m].status == MemberStatus.Active) count++;
        }
    }

    /// @dev The member whose country recognises: it must approve the agreement.
    function _recogniser(bytes2 verifierCountry) private view returns (uint32 memberId) {
        memberId = memberOfCountry[verifierCountry];
        if (memberId == 0) revert NoMemberForCountry(verifierCountry);
    }

    /// @dev The member on whose behalf `account` governs: an open member-account grant now,
    /// and the member active now.
    function _governingMember(address account) private view returns (uint32 memberId) {
        memberId = memberOf[account];
        if (memberId == 0 || !_grantCovers(_grants[account][MEMBER_ACCOUNT], block.number)) {
            revert NotMemberAccount(account);
        }
        if (_members[memberId].status != MemberStatus.Active) revert MemberNotActive(memberId);
    }

    // ------------------------------------------------------------------ checks

    function _checkAdmit(bytes2 country, string memory name, address account) private view {
        CountryCodes.check(country);
        if (memberOfCountry[country] != 0) revert CountryTaken(country, memberOfCountry[country]);
        if (bytes(name).length == 0) revert EmptyName();
        _checkFreeAccount(account, 0);
    }

    function _checkSuspend(uint32 memberId) private view {
        if (_existingMember(memberId).status != MemberStatus.Active) {
            revert MemberNotActive(memberId);
        }
        // the last active member cannot be suspended: nobody would be left to govern
        if (activeMemberCount < 2) revert QuorumUnreachable(1, activeMemberCount - 1);
    }

    function _checkReadmit(uint32 memberId) private view {
        if (_existingMember(memberId).status != MemberStatus.Suspended) {
            revert MemberNotSuspended(memberId);
        }
    }

    function _checkSetEncryptionKey(uint32 memberId, bytes32 publicKey) private view {
        _existingMember(memberId);
        if (publicKey == bytes32(0)) revert ZeroEncryptionKey();
    }

    function _checkAddAuditorKey(string memory name, bytes32 publicKey) private pure {
        if (bytes(name).length == 0) revert EmptyName();
        if (publicKey == bytes32(0)) revert ZeroEncryptionKey();
    }

    function _checkRemoveAuditorKey(uint32 auditorKeyId) private view {
        if (
            auditorKeyId == 0 || auditorKeyId > _auditorKeys.length
                || _auditorKeys[auditorKeyId - 1].validUntil != OPEN
        ) revert UnknownAuditorKey(auditorKeyId);
    }

    function _checkAddKey(uint32 memberId, address account, bytes32 typeId) private view {
        _existingMember(memberId);
        _checkFreeAccount(account, memberId);
        if (_isOpen(_grants[account][typeId])) revert KeyAlreadyActive(account, typeId);
    }

    function _checkRotateKey(
        uint32 memberId,
        address oldAccount,
        address newAccount,
        bytes32 typeId
    ) private view {
        _checkRevokeKey(memberId, oldAccount, typeId);
        _checkAddKey(memberId, newAccount, typeId);
    }

    function _checkRevokeKey(uint32 memberId, address account, bytes32 typeId) private view {
        _existingMember(memberId);
        if (memberOf[account] != memberId) revert AccountNotOfMember(account, memberId);
        if (!_isOpen(_grants[account][typeId])) revert KeyNotActive(account, typeId);
    }

    function _checkAddAgreement(
        bytes2 verifierCountry,
        bytes2 issuerCountry,
        bytes32 typeId,
        uint64 validFrom,
        uint64 validUntil
    ) private view {
        CountryCodes.check(verifierCountry);
        CountryCodes.check(issuerCountry);
        _recogniser(verifierCountry);
        if (validUntil != 0 && validUntil <= validFrom) revert InvalidValidity(validFrom, validUntil);
        AgreementWindow[] storage windows =
            _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)];
        if (windows.length > 0) {
            AgreementWindow storage last = windows[windows.length - 1];
            if (
                last.validUntil == 0 || last.validUntil > block.timestamp
                    || validFrom < last.validUntil
            ) revert AgreementAlreadyInForce(verifierCountry, issuerCountry, typeId);
        }
    }

    function _checkWithdrawAgreement(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId)
        private
        view
    {
        AgreementWindow[] storage windows =
            _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)];
        if (windows.length == 0) {
            revert AgreementNotInForce(verifierCountry, issuerCountry, typeId);
        }
        AgreementWindow storage last = windows[windows.length - 1];
        if (last.validUntil != 0 && last.validUntil <= block.timestamp) {
            revert AgreementNotInForce(verifierCountry, issuerCountry, typeId);
        }
    }

    /// @dev `account` is usable for `memberId`: non-zero and not bound to another member
    /// (`memberId == 0`: not bound at all).
    function _checkFreeAccount(address account, uint32 memberId) private view {
        if (account == address(0)) revert ZeroAccount();
        uint32 owner = memberOf[account];
        if (owner != 0 && owner != memberId) revert AccountBoundToOtherMember(account, owner);
    }

    // ------------------------------------------------------------------ effects

    function _admit(bytes2 country, string memory name, address account, uint256 proposalId)
        private
    {
        uint32 memberId = ++memberCount;
        Member storage m = _members[memberId];
        m.country = country;
        m.name = name;
        memberOfCountry[country] = memberId;
        _setStatus(memberId, MemberStatus.Active);
        activeMemberCount++;
        emit MemberAdmitted(memberId, country, name, proposalId);
        _addKey(memberId, account, MEMBER_ACCOUNT, proposalId);
    }

    /// @dev Changes take effect from the next block, so that the history answers for whole
    /// blocks: every transaction mined in a block saw the status recorded for that block.
    function _setStatus(uint32 memberId, MemberStatus status) private {
        Member storage m = _members[memberId];
        StatusCheckpoint[] storage history = _statusHistory[memberId];
        uint64 next = _nextBlock();
        if (m.statusFrom == next) {
            history[history.length - 1].status = status;
        } else {
            m.previousStatus = m.status;
            m.statusFrom = next;
            history.push(StatusCheckpoint({fromBlock: next, status: status}));
        }
        m.status = status;
        _pushMember(memberId);
    }

    /// @dev Closes the member's current encryption key at the next block and opens `publicKey`.
    function _setEncryptionKey(uint32 memberId, bytes32 publicKey, uint256 proposalId) private {
        EncryptionKey[] storage history = _encryptionKeys[memberId];
        uint64 next = _nextBlock();
        if (history.length > 0) history[history.length - 1].validUntil = next;
        history.push(EncryptionKey({publicKey: publicKey, validFrom: next, validUntil: OPEN}));
        emit EncryptionKeySet(memberId, uint32(history.length), publicKey, next, proposalId);
    }

    function _addKey(uint32 memberId, address account, bytes32 typeId, uint256 proposalId)
        private
    {
        memberOf[account] = memberId;
        Grant[] storage history = _grants[account][typeId];
        if (history.length == 0) {
            _typesOf[account].push(typeId);
            if (typeId != MEMBER_ACCOUNT) {
                _issuerKeys[memberId].push(IssuerKey({account: account, typeId: typeId}));
            }
        }
        uint64 next = _nextBlock();
        history.push(Grant({validFrom: next, validUntil: OPEN}));
        emit KeyAdded(memberId, account, typeId, next, proposalId);
        if (typeId != MEMBER_ACCOUNT) _pushKey(account, typeId);
    }

    function _revokeKey(uint32 memberId, address account, bytes32 typeId, uint256 proposalId)
        private
    {
        Grant[] storage history = _grants[account][typeId];
        Grant storage open = history[history.length - 1];
        uint64 next = _nextBlock();
        open.validUntil = next;
        emit KeyRevoked(memberId, account, typeId, open.validFrom, next, proposalId);
        if (typeId != MEMBER_ACCOUNT) _pushKey(account, typeId);
    }

    /// @dev Tells the document registry (once attached) an issuer key's new anchoring window.
    function _pushKey(address account, bytes32 typeId) private {
        address registry = documentRegistry;
        if (registry == address(0)) return;
        AnchorAuthority[] memory updates = new AnchorAuthority[](1);
        updates[0] = anchorAuthority(account, typeId);
        IAnchorAuthorityCache(registry).setAnchorAuthorities(updates);
    }

    /// @dev After a member's status changed: every issuer key of the member.
    function _pushMember(uint32 memberId) private {
        address registry = documentRegistry;
        IssuerKey[] storage keys = _issuerKeys[memberId];
        if (registry == address(0) || keys.length == 0) return;
        AnchorAuthority[] memory updates = new AnchorAuthority[](keys.length);
        for (uint256 i = 0; i < keys.length; i++) {
            updates[i] = anchorAuthority(keys[i].account, keys[i].typeId);
        }
        IAnchorAuthorityCache(registry).setAnchorAuthorities(updates);
    }

    function _addAgreement(
        bytes2 verifierCountry,
        bytes2 issuerCountry,
        bytes32 typeId,
        uint64 validFrom,
        uint64 validUntil,
        uint256 proposalId
    ) private {
        _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)].push(
            AgreementWindow({validFrom: validFrom, validUntil: validUntil})
        );
        emit AgreementAdded(verifierCountry, issuerCountry, typeId, validFrom, validUntil, proposalId);
    }

    function _withdrawAgreement(
        bytes2 verifierCountry,
        bytes2 issuerCountry,
        bytes32 typeId,
        uint256 proposalId
    ) private {
        AgreementWindow[] storage windows =
            _agreements[_agreementKey(verifierCountry, issuerCountry, typeId)];
        AgreementWindow storage last = windows[windows.length - 1];
        uint64 end = uint64(block.timestamp);
        if (end < last.validFrom) end = last.validFrom;
        last.validUntil = end;
        emit AgreementWithdrawn(verifierCountry, issuerCountry, typeId, end, proposalId);
    }

    // ------------------------------------------------------------------ internals

    function _existingMember(uint32 memberId) private view returns (Member storage m) {
        m = _members[memberId];
        if (m.status == MemberStatus.None) revert UnknownMember(memberId);
    }

    /// @dev The member's own slot answers for the current block (one read); older blocks walk
    /// the history.
    function _statusAt(uint32 memberId, Member storage m, uint256 blockNumber)
        private
        view
        returns (MemberStatus)
    {
        if (blockNumber >= m.statusFrom) return m.status;
        if (blockNumber + 1 == m.statusFrom) return m.previousStatus;
        return memberStatusAt(memberId, blockNumber);
    }

    function _nextBlock() private view returns (uint64) {
        return uint64(block.number + 1);
    }

    function _grantCovers(Grant[] storage history, uint256 blockNumber)
        private
        view
        returns (bool)
    {
        for (uint256 i = history.length; i > 0; i--) {
            Grant storage g = history[i - 1];
            if (g.validFrom <= blockNumber && blockNumber < g.validUntil) return true;
            if (g.validUntil <= blockNumber) return false; // grants are in block order
        }
        return false;
    }

    function _isOpen(Grant[] storage history) private view returns (bool) {
        return history.length > 0 && history[history.length - 1].validUntil == OPEN;
    }

    function _agreementKey(bytes2 verifierCountry, bytes2 issuerCountry, bytes32 typeId)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(verifierCountry, issuerCountry, typeId));
    }
}
