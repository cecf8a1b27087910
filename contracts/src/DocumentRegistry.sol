// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ConsortiumRegistry} from "./ConsortiumRegistry.sol";
import {CountryCodes} from "./CountryCodes.sol";

/// @title DocumentRegistry
/// @notice Anchors batch roots (ADR 0001) by authorised issuer keys, directly or through a
/// relayer carrying the issuer's EIP-712 signature, and records each document's revocation,
/// supersession, uses and rejections. See docs/contracts.md for the full interface.
contract DocumentRegistry is EIP712 {
    enum DocumentStatus {
        Valid,
        Revoked,
        Superseded
    }

    /// @dev A distinct (document type, addressee set), stored once and shared by batches.
    struct Route {
        bytes32 typeId;
        bytes2[] addressees;
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
        uint32 routeId;
    }

    bytes32 public constant BATCH_ANCHOR_TYPEHASH = keccak256(
        "BatchAnchor(bytes32 root,string documentType,uint32 documentCount,bytes2[] addressees)"
    );

    ConsortiumRegistry public immutable consortium;

    /// @dev root => issuer (bits 0-159) | block number (160-223) | route id (224-255).
    mapping(bytes32 root => uint256 packed) private _anchors;
    mapping(bytes32 routeKey => uint32 routeId) private _routeIds;
    Route[] private _routes;
    mapping(uint32 issuerMember => mapping(bytes32 targetHash => DocumentState)) private _states;
    mapping(uint32 issuerMember => mapping(bytes32 targetHash => bytes32 successor)) private
        _successors;

    event BatchAnchored(
        bytes32 indexed root,
        uint32 indexed issuerMember,
        bytes32 indexed typeId,
        address issuer,
        address submitter,
        bytes2 issuerCountry,
        string documentType,
        uint32 documentCount,
        bytes2[] addressees,
        uint64 timestamp
    );
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

    constructor(ConsortiumRegistry consortium_) EIP712("docex", "1") {
        consortium = consortium_;
    }

    // ------------------------------------------------------------------ anchoring

    /// @notice Anchors a batch root; the sender is the issuer.
    function anchor(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees
    ) external {
        _anchor(root, documentType, documentCount, addressees, msg.sender);
    }

    /// @notice Anchors a batch root for the issuer whose EIP-712 signature is given; anyone
    /// may relay it.
    function anchorSigned(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees,
        bytes calldata signature
    ) external {
        bytes32 digest = batchAnchorDigest(root, documentType, documentCount, addressees);
        _anchor(root, documentType, documentCount, addressees, ECDSA.recover(digest, signature));
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

    function _anchor(
        bytes32 root,
        string calldata documentType,
        uint32 documentCount,
        bytes2[] calldata addressees,
        address issuer
    ) private {
        if (root == bytes32(0)) revert ZeroRoot();
        if (documentCount == 0) revert EmptyBatch();
        _requireNotAnchored(root);
        bytes32 typeId = keccak256(bytes(documentType));
        (uint32 issuerMember, bytes2 country) = _requireAuthorised(issuer, typeId);
        _anchors[root] = uint256(uint160(issuer)) | (block.number << 160)
            | (uint256(_route(typeId, addressees)) << 224);
        emit BatchAnchored(
            root,
            issuerMember,
            typeId,
            issuer,
            msg.sender,
            country,
            documentType,
            documentCount,
            addressees,
            uint64(block.timestamp)
        );
    }

    function _requireNotAnchored(bytes32 root) private view {
        uint256 existing = _anchors[root];
        if (existing != 0) {
            Anchor memory a = _unpack(existing);
            revert AlreadyAnchored(root, a.issuer, a.blockNumber);
        }
    }

    function _requireAuthorised(address issuer, bytes32 typeId)
        private
        view
        returns (uint32 issuerMember, bytes2 country)
    {
        bool authorised;
        (issuerMember, country, authorised) = consortium.authorityAt(issuer, typeId, block.number);
        if (!authorised) revert IssuerNotAuthorised(issuer, typeId, country, block.number);
    }

    /// @dev The id of the (type, addressees) route, registered on first use. Route ids start
    /// at 1 so that a stored anchor is never zero.
    function _route(bytes32 typeId, bytes2[] calldata addressees) private returns (uint32 routeId) {
        bytes32 key = keccak256(abi.encode(typeId, addressees));
        routeId = _routeIds[key];
        if (routeId != 0) return routeId;
        _checkAddressees(addressees);
        _routes.push(Route({typeId: typeId, addressees: addressees}));
        routeId = uint32(_routes.length);
        _routeIds[key] = routeId;
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

    /// @notice Records that an addressee accepted `quantity` of the document against a
    /// declaration. The first use sets the allowed total; over-use reverts.
    function recordUse(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        bytes32 declarationRef,
        uint96 quantity,
        uint96 allowedQuantity
    ) external {
        Use memory use;
        use.root = root;
        use.targetHash = targetHash;
        use.declarationRef = declarationRef;
        use.quantity = quantity;
        (use.issuerMember, use.userMember, use.userCountry) =
            _addresseeActing(root, targetHash, proof);
        _requireCurrent(use.issuerMember, targetHash);
        (use.usedQuantity, use.allowedQuantity) =
            _consume(use.issuerMember, targetHash, quantity, allowedQuantity);
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

    /// @dev Adds `quantity` to the document's used total, within its allowance (set here on
    /// first use).
    function _consume(
        uint32 issuerMember,
        bytes32 targetHash,
        uint96 quantity,
        uint96 allowedQuantity
    ) private returns (uint96 used, uint96 allowed) {
        if (quantity == 0) revert ZeroQuantity();
        DocumentState storage state = _states[issuerMember][targetHash];
        allowed = state.allowedQuantity;
        if (allowed == 0) {
            if (allowedQuantity == 0) revert ZeroQuantity();
            allowed = allowedQuantity;
            state.allowedQuantity = allowed;
        } else if (allowedQuantity != 0 && allowedQuantity != allowed) {
            revert AllowanceMismatch(targetHash, allowed, allowedQuantity);
        }
        used = state.usedQuantity;
        if (quantity > allowed - used) revert OverUse(targetHash, allowed, used, quantity);
        used += quantity;
        state.usedQuantity = used;
    }

    /// @notice Records that an addressee rejected the document, with a reason code.
    function recordRejection(
        bytes32 root,
        bytes32 targetHash,
        bytes32[] calldata proof,
        uint32 reasonCode
    ) external {
        (uint32 issuerMember, uint32 rejecterMember, bytes2 rejecterCountry) =
            _addresseeActing(root, targetHash, proof);
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
        Route storage route = _routes[a.routeId - 1];
        return (a.issuer, a.blockNumber, route.typeId, route.addressees);
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

    /// @dev Checks the proof and that the caller is an active account of a member whose
    /// country is an addressee of the batch.
    function _addresseeActing(bytes32 root, bytes32 targetHash, bytes32[] calldata proof)
        private
        view
        returns (uint32 issuerMember, uint32 callerMember, bytes2 callerCountry)
    {
        issuerMember = _provenBatchMember(root, targetHash, proof);
        (callerMember, callerCountry,) = _activeCaller();
        Anchor memory a = _unpack(_anchors[root]);
        bytes2[] storage addressees = _routes[a.routeId - 1].addressees;
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
        return consortium.memberOf(a.issuer);
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
            blockNumber: uint64(packed >> 160),
            routeId: uint32(packed >> 224)
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
