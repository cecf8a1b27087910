// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ConsortiumRegistry, IAnchorAuthorityCache} from "./ConsortiumRegistry.sol";
import {CountryCodes} from "./CountryCodes.sol";

/// @title DocumentRegistry
/// @notice Anchors batch roots (ADR 0001) by authorised issuer keys, directly or through a
/// relayer carrying the issuer's EIP-712 signature, and records each document's revocation,
/// supersession, uses and rejections. See docs/contracts.md for the full interface.
contract DocumentRegistry is EIP712, IAnchorAuthorityCache {
    enum DocumentStatus {
        Valid,
        Revoked,
        Superseded
    }

    /// @dev An issuer key: one (account, document type) with an issuer grant. Numbered 1, 2, ...
    /// in the order the consortium first reported them.
    struct IssuerKey {
        address account;
        bytes32 typeId;
    }

    /// @dev Per (issuer member, target hash); one slot.
    struct DocumentState {
        DocumentStatus status;
        uint96 allowedQuantity;
        uint96 usedQuantity;
    }

    /// @dev The fields of a `DocumentUsed` event, gathered in memory (stack depth).
    struct Use {
        bytes32 root;
        bytes32 targetHash;
        bytes32 declarationRef;
        uint32 issuerMember;
        uint32 userMember;
        bytes2 userCountry;
        uint96 quantity;
        uint96 usedQuantity;
        uint96 allowedQuantity;
    }

    struct Anchor {
        address issuer;
        uint64 blockNumber;
        uint48 routeId;
    }

    /// @notice What the chain recorded for an anchored root, for a verifier to compare with
    /// what the issuer signed: the issuer key, its member and country, the document type, the
    /// block, the batch's addressees (the union of its documents'), and whether the key held
    /// the right to issue that type for that country at that block.
    struct AnchorRecord {
        address issuer;
        uint32 issuerMember;
        bytes2 issuerCountry;
        bytes32 typeId;
        uint64 blockNumber;
        bytes2[] addressees;
        bool issuerAuthorised;
    }

    bytes32 public constant BATCH_ANCHOR_TYPEHASH = keccak256(
        "BatchAnchor(bytes32 root,string documentType,uint32 documentCount,bytes2[] addressees)"
    );

    ConsortiumRegistry public immutable consortium;

    // Bit layout of an authority word (see `_authority`).
    uint256 private constant _UNTIL_SHIFT = 64;
    uint256 private constant _ROUTES_SHIFT = 128;
    uint256 private constant _MEMBER_SHIFT = 152;
    uint256 private constant _COUNTRY_SHIFT = 184;
    uint256 private constant _ROUTES_MASK = uint256(type(uint24).max) << _ROUTES_SHIFT;
    uint256 private constant _SEQ_BITS = 24;

    /// @dev root => issuer (bits 0-159) | block number (160-207) | route id (208-255).
    mapping(bytes32 root => uint256 packed) private _anchors;
    /// @dev (account << 24 | keyId) => the key's anchoring rights, pushed by the consortium on
    /// every change that affects them, and its route count: validFrom (bits 0-63) | validUntil
    /// (64-127) | routes registered (128-151) | member id (152-183) | country (184-199). The
    /// account is part of the key, so a route id used by another account finds an empty word.
    mapping(uint256 accountKey => uint256 word) private _authority;
    mapping(address account => mapping(bytes32 typeId => uint24 keyId)) private _keyIds;
    IssuerKey[] private _keys;
    /// @dev A route is one issuer key's (document type, addressee set): id = keyId << 24 | n.
    mapping(uint24 keyId => mapping(bytes32 addresseesHash => uint24 n)) private _routeNumbers;
    mapping(uint48 routeId => bytes2[] addressees) private _routeAddressees;
    mapping(uint32 issuerMember => mapping(bytes32 targetHash => DocumentState)) private _states;
    mapping(uint32 issuerMember => mapping(bytes32 targetHash => bytes32 successor)) private
        _successors;

    /// @notice A batch root anchored on a route (whose issuer key, type and addressees a
    /// `RouteRegistered` event gave). Anonymous: its one topic is the root, which keeps the
    /// anchoring transaction within OpenAttestation's gas (ADR 0021).
    event BatchAnchored(bytes32 indexed root, uint80 routeAndCount) anonymous;
    /// @notice Emitted once per route, before the first batch anchored on it.
    event RouteRegistered(
        uint48 indexed routeId,
        address indexed issuer,
        bytes32 indexed typeId,
        uint32 issuerMember,
        bytes2 issuerCountry,
        string documentType,
        bytes2[] addressees
    );
    /// @notice Follows `BatchAnchored` when a relayer sent the issuer's signed batch.
    event BatchRelayed(bytes32 indexed root, address indexed issuer, address submitter);
    event DocumentRevoked(
        bytes32 indexed targetHash,
        uint32 indexed issuerMember,
        bytes32 indexed root,
        address account,
        uint32 reasonCode,
        uint64 timestamp
    );
    event DocumentSuperseded(
        bytes32 indexed targetHash,
        uint32 indexed issuerMember,
        bytes32 indexed successorTargetHash,
        bytes32 root,
        bytes32 successorRoot,
        address account,
        uint64 timestamp
    );
    event DocumentUsed(
        bytes32 indexed targetHash,
        uint32 indexed issuerMember,
        bytes32 indexed declarationRef,
        bytes32 root,
        uint32 userMember,
        bytes2 userCountry,
        address account,
        uint96 quantity,
        uint96 usedQuantity,
        uint96 allowedQuantity,
        uint64 timestamp
    );
    event DocumentRejected(
        bytes32 indexed targetHash,
        uint32 indexed issuerMember,
        uint32 indexed rejecterMember,
        bytes32 root,
        bytes2 rejecterCountry,
        address account,
        uint32 reasonCode,
        uint64 timestamp
    );

    error ZeroRoot();
    error EmptyBatch();
    error NoAddressees();
    error AddresseesNotSorted(uint256 index);
    error IssuerNotAuthorised(address account, bytes32 typeId, bytes2 country, uint256 blockNumber);
    error AlreadyAnchored(bytes32 root, address issuer, uint64 blockNumber);
    error UnknownRoute(uint256 routeId);
    error NotRouteIssuer(uint256 routeId, address account, address routeIssuer);
    error BatchTooLarge(uint256 documentCount);
    error TooManyRoutes(address issuer, bytes32 typeId);
    error NotConsortium(address caller);
    error ValueNotAccepted(uint256 value);
    error NotAnchored(bytes32 root);
    error InvalidProof(bytes32 root, bytes32 targetHash);
    error NotActiveAccount(address account, uint256 blockNumber);
    error NotIssuerMember(address account, uint32 accountMember, uint32 issuerMember);
    error NotAddressee(address account, bytes2 country, bytes32 root);
    error SuccessorOfOtherMember(bytes32 successorRoot, uint32 successorMember, uint32 issuerMember);
    error SupersedeBySelf(bytes32 targetHash);
    error DocumentIsRevoked(bytes32 targetHash);
    error DocumentIsSuperseded(bytes32 targetHash, bytes32 successor);
    error ZeroQuantity();
    error AllowanceMismatch(bytes32 targetHash, uint96 recorded, uint96 given);
    error OverUse(bytes32 targetHash, uint96 allowed, uint96 used, uint96 requested);
    error InvalidTermsProof(bytes32 root, bytes32 targetHash);

    /// @dev Attaches to the consortium (only in a transaction sent by the consortium's
    /// deployer) and caches the anchoring rights of its issuer keys.
    constructor(ConsortiumRegistry consortium_) EIP712("docex", "1") {
        consortium = consortium_;
        ConsortiumRegistry.AnchorAuthority[] memory current = consortium_.attachDocumentRegistry();
        for (uint256 i = 0; i < current.length; i++) {
            ConsortiumRegistry.AnchorAuthority memory a = current[i];
            _setAuthority(a.account, a.typeId, a.memberId, a.country, a.validFrom, a.validUntil);
        }
    }

    // ------------------------------------------------------------------ anchoring

    /// @notice Anchors a batch root on one of the sender's registered routes (its issuer key's
    /// document type and addressees): the sender is the issuer. The cheap path: one cached
    /// rights word and the new anchor slot (ADR 0021). `routeId` (< 2^48) and
    /// `documentCount` (1 .. 2^32 - 1) are `uint256` so that decoding costs nothing; values
    /// out of range are refused.
    function anchor(bytes32 root, uint256 routeId, uint256 documentCount) external payable {
        // Written in assembly to stay within OpenAttestation's gas. The checks: no value
        // sent; root and count non-zero and in range; the word of (sender, the route's key)
        // covers this block and the route's number is one the key registered; the root is
        // not anchored yet. When one fails, `_refuseAnchor` names the broken rule.
        uint256 anchorSlot;
        bool ok;
        assembly ("memory-safe") {
            mstore(0, or(shl(24, caller()), shr(24, routeId)))
            mstore(32, _authority.slot)
            let word := sload(keccak256(0, 64))
            mstore(0, root)
            mstore(32, _anchors.slot)
            anchorSlot := keccak256(0, 64)
            let n := and(routeId, 0xffffff)
            let malformed := or(
                or(iszero(root), iszero(documentCount)),
                or(callvalue(), or(shr(48, routeId), shr(32, documentCount)))
            )
            let unauthorised := or(
                or(iszero(n), gt(n, and(shr(128, word), 0xffffff))),
                or(
                    lt(number(), and(word, 0xffffffffffffffff)),
                    iszero(lt(number(), and(shr(64, word), 0xffffffffffffffff)))
                )
            )
            ok := iszero(or(or(malformed, unauthorised), sload(anchorSlot)))
        }
        if (!ok) _refuseAnchor(root, routeId, documentCount);
        assembly ("memory-safe") {
            sstore(anchorSlot, or(or(caller(), shl(160, number())), shl(208, routeId)))
            // emit BatchAnchored(root, routeId << 32 | documentCount)
            mstore(0, or(shl(32, routeId), documentCount))
            log1(0, 32, root)
        }
    }

    /// @notice Anchors a batch root described in full; the sender is the issuer. Registers the
    /// (type, addressees) route of the sender's key the first time (then `anchor` with the
    /// route id is cheaper).
    function anchorWithRoute(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees
    ) external returns (uint48 routeId) {
        return _anchorFull(root, documentType, documentCount, addressees, msg.sender);
    }

    /// @notice Anchors a batch root for the issuer whose EIP-712 signature is given; anyone
    /// may relay it.
    function anchorSigned(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees,
        bytes calldata signature
    ) external returns (uint48 routeId) {
        bytes32 digest = batchAnchorDigest(root, documentType, documentCount, addressees);
        address issuer = ECDSA.recover(digest, signature);
        routeId = _anchorFull(root, documentType, documentCount, addressees, issuer);
        emit BatchRelayed(root, issuer, msg.sender);
    }

    /// @notice The EIP-712 digest an issuer signs for `anchorSigned`.
    function batchAnchorDigest(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    BATCH_ANCHOR_TYPEHASH,
                    root,
                    keccak256(bytes(documentType)),
                    documentCount,
                    // EIP-712 arrays: keccak of the 32-byte encodings of the elements; packed
                    // encoding pads each array element to 32 bytes, bytes2 left-aligned.
                    keccak256(abi.encodePacked(addressees))
                )
            )
        );
    }

    /// @notice Called by the consortium on every change of an issuer key's anchoring rights.
    function setAnchorAuthorities(ConsortiumRegistry.AnchorAuthority[] calldata updates)
        external
    {
        if (msg.sender != address(consortium)) revert NotConsortium(msg.sender);
        for (uint256 i = 0; i < updates.length; i++) {
            ConsortiumRegistry.AnchorAuthority calldata a = updates[i];
            _setAuthority(a.account, a.typeId, a.memberId, a.country, a.validFrom, a.validUntil);
        }
    }

    function _setAuthority(
        address account,
        bytes32 typeId,
        uint32 memberId,
        bytes2 country,
        uint64 validFrom,
        uint64 validUntil
    ) private {
        uint24 keyId = _keyIds[account][typeId];
        if (keyId == 0) {
            _keys.push(IssuerKey({account: account, typeId: typeId}));
            keyId = SafeCast.toUint24(_keys.length);
            _keyIds[account][typeId] = keyId;
        }
        uint256 slot = _authorityKey(account, keyId);
        _authority[slot] = uint256(validFrom) | (uint256(validUntil) << _UNTIL_SHIFT)
            | (_authority[slot] & _ROUTES_MASK) | (uint256(memberId) << _MEMBER_SHIFT)
            | (uint256(uint16(country)) << _COUNTRY_SHIFT);
    }

    function _anchorFull(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees,
        address issuer
    ) private returns (uint48 routeId) {
        if (root == bytes32(0)) revert ZeroRoot();
        if (documentCount == 0) revert EmptyBatch();
        _requireNotAnchored(root);
        bytes32 typeId = keccak256(bytes(documentType));
        uint24 keyId = _keyIds[issuer][typeId];
        uint256 word = _authority[_authorityKey(issuer, keyId)];
        if (keyId == 0 || !_covers(word)) _refuseIssuer(issuer, typeId, word);
        routeId = _route(issuer, keyId, typeId, documentType, addressees);
        _anchors[root] =
            uint256(uint160(issuer)) | (block.number << 160) | (uint256(routeId) << 208);
        emit BatchAnchored(root, (uint80(routeId) << 32) | documentCount);
    }

    /// @dev The id of the issuer key's route to `addressees`, registered on first use.
    function _route(
        address issuer,
        uint24 keyId,
        bytes32 typeId,
        string calldata documentType,
        bytes2[] calldata addressees
    ) private returns (uint48 routeId) {
        bytes32 hash = keccak256(abi.encodePacked(addressees));
        uint24 n = _routeNumbers[keyId][hash];
        if (n == 0) {
            _checkAddressees(addressees);
            uint256 slot = _authorityKey(issuer, keyId);
            uint256 word = _authority[slot];
            uint256 count = uint24(word >> _ROUTES_SHIFT);
            if (count == type(uint24).max) revert TooManyRoutes(issuer, typeId);
            n = uint24(count + 1);
            _authority[slot] = word + (uint256(1) << _ROUTES_SHIFT);
            _routeNumbers[keyId][hash] = n;
            routeId = _routeIdOf(keyId, n);
            _routeAddressees[routeId] = addressees;
            emit RouteRegistered(
                routeId,
                issuer,
                typeId,
                uint32(word >> _MEMBER_SHIFT),
                bytes2(uint16(word >> _COUNTRY_SHIFT)),
                documentType,
                addressees
            );
            return routeId;
        }
        return _routeIdOf(keyId, n);
    }

    /// @dev Why `anchor(root, routeId, documentCount)` is refused, in the order the full form
    /// checks: value, root, count, duplicate, route, issuer, authority.
    function _refuseAnchor(bytes32 root, uint256 routeId, uint256 documentCount) private view {
        if (msg.value != 0) revert ValueNotAccepted(msg.value);
        if (root == bytes32(0)) revert ZeroRoot();
        if (documentCount == 0) revert EmptyBatch();
        if (documentCount > type(uint32).max) revert BatchTooLarge(documentCount);
        _requireNotAnchored(root);
        uint256 keyId = routeId >> _SEQ_BITS;
        if (routeId > type(uint48).max || keyId == 0 || keyId > _keys.length) {
            revert UnknownRoute(routeId);
        }
        IssuerKey storage key = _keys[keyId - 1];
        if (key.account != msg.sender) revert NotRouteIssuer(routeId, msg.sender, key.account);
        uint256 word = _authority[_authorityKey(msg.sender, keyId)];
        if (!_covers(word)) _refuseIssuer(msg.sender, key.typeId, word);
        revert UnknownRoute(routeId);
    }

    function _refuseIssuer(address issuer, bytes32 typeId, uint256 word) private view {
        bytes2 country = bytes2(uint16(word >> _COUNTRY_SHIFT));
        if (word == 0) (, country,) = consortium.authorityAt(issuer, typeId, block.number);
        revert IssuerNotAuthorised(issuer, typeId, country, block.number);
    }

    function _covers(uint256 word) private view returns (bool) {
        return block.number >= uint64(word) && block.number < uint64(word >> _UNTIL_SHIFT);
    }

    function _routeIdOf(uint24 keyId, uint24 n) private pure returns (uint48) {
        return (uint48(keyId) << 24) | n;
    }

    function _authorityKey(address account, uint256 keyId) private pure returns (uint256) {
        return (uint256(uint160(account)) << 24) | keyId;
    }

    function _requireNotAnchored(bytes32 root) private view {
        uint256 existing = _anchors[root];
        if (existing != 0) {
            Anchor memory a = _unpack(existing);
            revert AlreadyAnchored(root, a.issuer, a.blockNumber);
        }
    }

    function _checkAddressees(bytes2[] calldata addressees) private pure {
        if (addressees.length == 0) revert NoAddressees();
        for (uint256 i = 0; i < addressees.length; i++) {
            CountryCodes.check(addressees[i]);
            if (i > 0 && addressees[i] <= addressees[i - 1]) revert AddresseesNotSorted(i);
        }
    }

    // ------------------------------------------------------------------ document life

    /// @notice Revokes a document, for good. Only an active account of its issuer's member.
    function revoke(bytes32 root, bytes32 targetHash, bytes32[] calldata proof, uint32 reasonCode)
        external
    {
        uint32 issuerMember = _issuerMemberActing(root, targetHash, proof);
        DocumentState storage state = _states[issuerMember][targetHash];
        if (state.status == DocumentStatus.Revoked) revert DocumentIsRevoked(targetHash);
        state.status = DocumentStatus.Revoked;
        emit DocumentRevoked(
            targetHash, issuerMember, root, msg.sender, reasonCode, uint64(block.timestamp)
        );
    }

    /// @notice Marks a document as replaced by another of the same issuer member.
    function supersede(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes32 successorRoot,
        bytes32 successorTargetHash,
        bytes32[] calldata successorProof
    ) external {
        uint32 issuerMember = _issuerMemberActing(root, targetHash, proof);
        if (successorTargetHash == targetHash) revert SupersedeBySelf(targetHash);
        uint32 successorMember = _provenBatchMember(successorRoot, successorTargetHash, successorProof);
        if (successorMember != issuerMember) {
            revert SuccessorOfOtherMember(successorRoot, successorMember, issuerMember);
        }
        _requireCurrent(issuerMember, targetHash);
        _requireCurrent(issuerMember, successorTargetHash);
        _states[issuerMember][targetHash].status = DocumentStatus.Superseded;
        _successors[issuerMember][targetHash] = successorTargetHash;
        emit DocumentSuperseded(
            targetHash,
            issuerMember,
            successorTargetHash,
            root,
            successorRoot,
            msg.sender,
            uint64(block.timestamp)
        );
    }

    /// @notice Records that one of the document's own addressees accepted `quantity` of it
    /// against a declaration. The document's terms (its addressees and the allowance its issuer
    /// set) are proven against the anchored root: `proof[0]` must be the terms leaf (see
    /// `termsLeaf`), the sibling of the document's leaf. The first use records the allowance;
    /// uses add up; an over-use reverts.
    function recordUse(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes2[] calldata addressees,
        uint96 allowance,
        bytes32 declarationRef,
        uint96 quantity
    ) external {
        Use memory use;
        use.root = root;
        use.targetHash = targetHash;
        use.declarationRef = declarationRef;
        use.quantity = quantity;
        (use.issuerMember, use.userMember, use.userCountry) =
            _addresseeActing(root, targetHash, proof, addressees, allowance);
        _requireCurrent(use.issuerMember, targetHash);
        (use.usedQuantity, use.allowedQuantity) =
            _consume(use.issuerMember, targetHash, quantity, allowance);
        emit DocumentUsed(
            use.targetHash,
            use.issuerMember,
            use.declarationRef,
            use.root,
            use.userMember,
            use.userCountry,
            msg.sender,
            use.quantity,
            use.usedQuantity,
            use.allowedQuantity,
            uint64(block.timestamp)
        );
    }

    /// @dev Adds `quantity` to the document's used total, within the allowance its issuer
    /// committed (recorded on first use; a different committed allowance later is refused).
    function _consume(
        uint32 issuerMember,
        bytes32 targetHash,
        uint96 quantity,
        uint96 allowance
    ) private returns (uint96 used, uint96 allowed) {
        if (quantity == 0) revert ZeroQuantity();
        DocumentState storage state = _states[issuerMember][targetHash];
        allowed = state.allowedQuantity;
        if (allowed == 0) {
            if (allowance == 0) revert ZeroQuantity();
            allowed = allowance;
            state.allowedQuantity = allowed;
        } else if (allowance != allowed) {
            revert AllowanceMismatch(targetHash, allowed, allowance);
        }
        used = state.usedQuantity;
        if (quantity > allowed - used) revert OverUse(targetHash, allowed, used, quantity);
        used += quantity;
        state.usedQuantity = used;
    }

    /// @notice Records that an addressee rejected the document, with a reason code.
    /// Only one of the document's own addressees, proven as for `recordUse`.
    function recordRejection(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes2[] calldata addressees,
        uint96 allowance,
        uint32 reasonCode
    ) external {
        (uint32 issuerMember, uint32 rejecterMember, bytes2 rejecterCountry) =
            _addresseeActing(root, targetHash, proof, addressees, allowance);
        emit DocumentRejected(
            targetHash,
            issuerMember,
            rejecterMember,
            root,
            rejecterCountry,
            msg.sender,
            reasonCode,
            uint64(block.timestamp)
        );
    }

    // ------------------------------------------------------------------ views

    function batch(bytes32 root)
        external
        view
        returns (address issuer, uint64 blockNumber, bytes32 typeId, bytes2[] memory addressees)
    {
        Anchor memory a = _anchorOf(root);
        return (
            a.issuer,
            a.blockNumber,
            _keys[(a.routeId >> _SEQ_BITS) - 1].typeId,
            _routeAddressees[a.routeId]
        );
    }

    /// @notice The issuer key, document type and addressees of a registered route.
    function route(uint48 routeId)
        external
        view
        returns (address issuer, bytes32 typeId, bytes2[] memory addressees)
    {
        addressees = _routeAddressees[routeId];
        if (addressees.length == 0) revert UnknownRoute(routeId);
        IssuerKey storage key = _keys[(routeId >> _SEQ_BITS) - 1];
        return (key.account, key.typeId, addressees);
    }

    /// @notice The id of `issuer`'s route for (`typeId`, `addressees`), 0 if not registered.
    function routeOf(address issuer, bytes32 typeId, bytes2[] calldata addressees)
        external
        view
        returns (uint48 routeId)
    {
        uint24 keyId = _keyIds[issuer][typeId];
        uint24 n = _routeNumbers[keyId][keccak256(abi.encodePacked(addressees))];
        return keyId == 0 || n == 0 ? 0 : _routeIdOf(keyId, n);
    }

    /// @notice The cached anchoring rights of `account` for `typeId` (pushed by the consortium):
    /// authorised at block B, for B from the last change on, iff `validFrom <= B < validUntil`.
    function anchorAuthority(address account, bytes32 typeId)
        external
        view
        returns (
            uint24 keyId,
            uint32 memberId,
            bytes2 country,
            uint64 validFrom,
            uint64 validUntil,
            uint24 routeCount
        )
    {
        keyId = _keyIds[account][typeId];
        uint256 word = keyId == 0 ? 0 : _authority[_authorityKey(account, keyId)];
        return (
            keyId,
            uint32(word >> _MEMBER_SHIFT),
            bytes2(uint16(word >> _COUNTRY_SHIFT)),
            uint64(word),
            uint64(word >> _UNTIL_SHIFT),
            uint24(word >> _ROUTES_SHIFT)
        );
    }

    /// @notice What the chain recorded for `root` (see `AnchorRecord`); reverts `NotAnchored`.
    function anchorRecord(bytes32 root) public view returns (AnchorRecord memory r) {
        Anchor memory a = _anchorOf(root);
        uint256 word = _authority[_authorityKey(a.issuer, a.routeId >> _SEQ_BITS)];
        r.issuer = a.issuer;
        r.issuerMember = uint32(word >> _MEMBER_SHIFT);
        r.issuerCountry = bytes2(uint16(word >> _COUNTRY_SHIFT));
        r.typeId = _keys[(a.routeId >> _SEQ_BITS) - 1].typeId;
        r.blockNumber = a.blockNumber;
        r.addressees = _routeAddressees[a.routeId];
        r.issuerAuthorised =
            consortium.isAuthorised(a.issuer, r.typeId, r.issuerCountry, a.blockNumber);
    }

    /// @notice The issuer check a verifier runs: `targetHash` is provably in the anchored batch
    /// `root`, the batch was anchored as `typeId` by a key of `issuingCountry`'s member, and
    /// that key held the right to issue `typeId` for `issuingCountry` at the anchor block.
    /// (`typeId` and `issuingCountry` are what the document's issuer signed.)
    function issuedAs(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes32 typeId,
        bytes2 issuingCountry
    ) external view returns (bool) {
        if (_anchors[root] == 0 || !proves(root, targetHash, proof)) return false;
        AnchorRecord memory r = anchorRecord(root);
        return r.typeId == typeId && r.issuerCountry == issuingCountry && r.issuerAuthorised;
    }

    /// @notice Whether `proof` ties the document and its terms (addressees, allowance) to
    /// `root`: what `recordUse` / `recordRejection` check.
    function provesTerms(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes2[] calldata addressees,
        uint96 allowance
    ) external view returns (bool) {
        return proof.length > 0 && proof[0] == termsLeaf(targetHash, addressees, allowance)
            && proves(root, targetHash, proof);
    }

    /// @notice A document's terms leaf: `keccak256(0x02 ‖ targetHash ‖ uint256(allowance) ‖
    /// addressees, each left-aligned in 32 bytes)`, paired with the document's leaf in the
    /// batch tree (certificates/merkle.py).
    function termsLeaf(bytes32 targetHash, bytes2[] calldata addressees, uint96 allowance)
        public
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encodePacked(bytes1(0x02), targetHash, uint256(allowance), addressees)
        );
    }

    function isAnchored(bytes32 root) external view returns (bool) {
        return _anchors[root] != 0;
    }

    function documentState(uint32 issuerMember, bytes32 targetHash)
        external
        view
        returns (
            DocumentStatus status,
            bytes32 successor,
            uint96 allowedQuantity,
            uint96 usedQuantity
        )
    {
        DocumentState storage state = _states[issuerMember][targetHash];
        return (
            state.status,
            _successors[issuerMember][targetHash],
            state.allowedQuantity,
            state.usedQuantity
        );
    }

    /// @notice Whether `proof` leads from the document's leaf to `root` (ADR 0001 hashing).
    function proves(bytes32 root, bytes32 targetHash, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        return MerkleProof.processProofCalldata(proof, _leaf(targetHash), _node) == root;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The member of the batch's issuer, after checking the proof and that the caller is
    /// an active account of that same member.
    function _issuerMemberActing(bytes32 root, bytes32 targetHash, bytes32[] calldata proof)
        private
        view
        returns (uint32 issuerMember)
    {
        issuerMember = _provenBatchMember(root, targetHash, proof);
        (uint32 callerMember,,) = _activeCaller();
        if (callerMember != issuerMember) {
            revert NotIssuerMember(msg.sender, callerMember, issuerMember);
        }
    }

    /// @dev Checks the proof, that it starts with the document's terms leaf, and that the
    /// caller is an active account of a member whose country is one of *this document's*
    /// addressees (not merely an addressee of another document of the batch).
    function _addresseeActing(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes2[] calldata addressees,
        uint96 allowance
    ) private view returns (uint32 issuerMember, uint32 callerMember, bytes2 callerCountry) {
        issuerMember = _provenBatchMember(root, targetHash, proof);
        if (proof.length == 0 || proof[0] != termsLeaf(targetHash, addressees, allowance)) {
            revert InvalidTermsProof(root, targetHash);
        }
        (callerMember, callerCountry,) = _activeCaller();
        for (uint256 i = 0; i < addressees.length; i++) {
            if (addressees[i] == callerCountry) return (issuerMember, callerMember, callerCountry);
        }
        revert NotAddressee(msg.sender, callerCountry, root);
    }

    function _activeCaller()
        private
        view
        returns (uint32 memberId, bytes2 country, bool active)
    {
        (memberId, country, active) = consortium.accountAt(msg.sender, block.number);
        if (!active) revert NotActiveAccount(msg.sender, block.number);
    }

    /// @dev The issuer member of an anchored batch that provably contains the document.
    function _provenBatchMember(bytes32 root, bytes32 targetHash, bytes32[] calldata proof)
        private
        view
        returns (uint32)
    {
        Anchor memory a = _anchorOf(root);
        if (!proves(root, targetHash, proof)) revert InvalidProof(root, targetHash);
        // the issuer's member, from its key's cached word (an account's member never changes)
        return uint32(_authority[_authorityKey(a.issuer, a.routeId >> _SEQ_BITS)] >> _MEMBER_SHIFT);
    }

    function _requireCurrent(uint32 issuerMember, bytes32 targetHash) private view {
        DocumentStatus status = _states[issuerMember][targetHash].status;
        if (status == DocumentStatus.Revoked) revert DocumentIsRevoked(targetHash);
        if (status == DocumentStatus.Superseded) {
            revert DocumentIsSuperseded(targetHash, _successors[issuerMember][targetHash]);
        }
    }

    function _anchorOf(bytes32 root) private view returns (Anchor memory) {
        uint256 packed = _anchors[root];
        if (packed == 0) revert NotAnchored(root);
        return _unpack(packed);
    }

    function _unpack(uint256 packed) private pure returns (Anchor memory) {
        return Anchor({
            issuer: address(uint160(packed)),
            blockNumber: uint64(uint48(packed >> 160)),
            routeId: uint48(packed >> 208)
        });
    }

    function _leaf(bytes32 targetHash) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), targetHash));
    }

    /// @dev ADR 0001 inner node: 0x01 prefix, the pair in ascending order.
    function _node(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b
            ? keccak256(abi.encodePacked(bytes1(0x01), a, b))
            : keccak256(abi.encodePacked(bytes1(0x01), b, a));
    }
}
