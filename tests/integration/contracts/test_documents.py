"""DocumentRegistry: anchoring (direct and relayed), revocation, supersession, uses, rejections."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3.logs import DISCARD

from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms, MerkleTree, terms_leaf
from certificates.signing import BatchAnchor, Eip712Domain, sign_batch_anchor

pytestmark = pytest.mark.integration

COO = keccak256(b"coo/1")
BUILD = Path(__file__).resolve().parents[3] / "contracts" / "build"


def artifact(name):
    return json.loads((BUILD / f"{name}.json").read_text())


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def documents(count):
    return [os.urandom(32) for _ in range(count)]


def batch(count):
    targets = documents(count)
    tree = MerkleTree.build(targets)
    return tree, targets


def terms_batch(*terms):
    """A batch tree with terms: one document per `DocumentTerms`."""
    targets = documents(len(terms))
    return MerkleTree.build_with_terms(list(zip(targets, terms, strict=True))), targets


def codes(terms):
    return [c.encode() for c in terms.addressees]


def use_call(r, tree, targets, index, terms, quantity, declaration=None):
    return r.recordUse(
        tree.root,
        targets[index],
        tree.proof(index),
        codes(terms),
        terms.allowance,
        declaration or os.urandom(32),
        quantity,
    )


def reject_call(r, tree, targets, index, terms, reason=3):
    return r.recordRejection(
        tree.root, targets[index], tree.proof(index), codes(terms), terms.allowance, reason
    )


def log(consortium, name, receipt):
    return [
        e["args"]
        for e in getattr(consortium.registry.events, name)().process_receipt(
            receipt, errors=DISCARD
        )
    ]


def domain_of(consortium, chain_id=None, registry=None):
    return Eip712Domain(
        chain_id=chain_id or consortium.chain.chain_id,
        verifying_contract=registry or consortium.registry.address,
    )


def signed(consortium, issuer, root, count=1, addressees=("TH",), document_type="coo/1", **domain):
    anchor = BatchAnchor(root, document_type, count, tuple(addressees))
    return sign_batch_anchor(issuer.key, domain_of(consortium, **domain), anchor)


# ------------------------------------------------------------------ anchoring


def route_and_count(event):
    return event["routeAndCount"] >> 32, event["routeAndCount"] & 0xFFFFFFFF


def test_first_anchor_registers_the_route_and_the_events_carry_what_an_indexer_needs(
    consortium,
):
    vn = consortium["VN"]
    tree, _ = batch(10)
    receipt = consortium.anchor(vn.issuer, tree.root, count=10, addressees=("SG", "TH"))
    (route,) = log(consortium, "RouteRegistered", receipt)
    (event,) = log(consortium, "BatchAnchored", receipt)
    assert route["issuer"] == vn.issuer.address
    assert route["typeId"] == COO
    assert route["issuerMember"] == vn.member_id
    assert route["issuerCountry"] == b"VN"
    assert route["documentType"] == "coo/1"
    assert route["addressees"] == [b"SG", b"TH"]
    assert event["root"] == tree.root
    assert route_and_count(event) == (route["routeId"], 10)
    registry = consortium.registry.functions
    assert registry.batch(tree.root).call() == [
        vn.issuer.address,
        receipt["blockNumber"],
        COO,
        [b"SG", b"TH"],
    ]
    assert registry.routeOf(vn.issuer.address, COO, [b"SG", b"TH"]).call() == route["routeId"]
    assert registry.routeOf(vn.issuer.address, COO, [b"TH"]).call() == 0
    assert registry.route(route["routeId"]).call() == [vn.issuer.address, COO, [b"SG", b"TH"]]


def test_issuer_anchors_on_a_registered_route_with_its_id(consortium):
    vn = consortium["VN"]
    route_id = consortium.route(vn.issuer, addressees=("SG", "TH"))
    tree, _ = batch(7)
    receipt = consortium.chain.transact(
        vn.issuer, consortium.registry.functions.anchor(tree.root, route_id, 7)
    )
    assert log(consortium, "RouteRegistered", receipt) == []
    (event,) = log(consortium, "BatchAnchored", receipt)
    assert (event["root"], route_and_count(event)) == (tree.root, (route_id, 7))
    assert consortium.registry.functions.batch(tree.root).call() == [
        vn.issuer.address,
        receipt["blockNumber"],
        COO,
        [b"SG", b"TH"],
    ]
    # the full form on a registered route reuses it
    again = consortium.anchor(vn.issuer, os.urandom(32), count=2, addressees=("SG", "TH"))
    assert log(consortium, "RouteRegistered", again) == []
    assert route_and_count(log(consortium, "BatchAnchored", again)[0]) == (route_id, 2)


def test_a_root_is_anchored_once(consortium):
    vn, sg = consortium["VN"], consortium["SG"]
    tree, _ = batch(3)
    receipt = consortium.anchor(vn.issuer, tree.root, count=3)
    call = consortium.registry.functions.anchorWithRoute(tree.root, "coo/1", 3, [b"TH"])
    expected = ("AlreadyAnchored", tree.root, vn.issuer.address, receipt["blockNumber"])
    assert consortium.chain.refused(vn.issuer, call) == expected
    assert consortium.chain.refused(sg.issuer, call) == expected
    route_id = consortium.route(vn.issuer)
    compact = consortium.registry.functions.anchor(tree.root, route_id, 3)
    assert consortium.chain.refused(vn.issuer, compact) == expected


def test_non_member_cannot_anchor(consortium):
    outsider = consortium.outsider
    call = consortium.registry.functions.anchorWithRoute(os.urandom(32), "coo/1", 1, [b"TH"])
    name, account, type_id, country, _block = consortium.chain.refused(outsider, call)
    assert (name, account, type_id, country) == (
        "IssuerNotAuthorised",
        outsider.address,
        COO,
        b"\0\0",
    )
    vn_route = consortium.route(consortium["VN"].issuer)
    compact = consortium.registry.functions.anchor(os.urandom(32), vn_route, 1)
    assert consortium.chain.refused(outsider, compact) == (
        "NotRouteIssuer",
        vn_route,
        outsider.address,
        consortium["VN"].issuer.address,
    )


def test_another_members_key_cannot_use_a_route_id_it_does_not_own(consortium):
    vn, sg = consortium["VN"], consortium["SG"]
    vn_route = consortium.route(vn.issuer)
    call = consortium.registry.functions.anchor(os.urandom(32), vn_route, 1)
    assert consortium.chain.refused(sg.issuer, call) == (
        "NotRouteIssuer",
        vn_route,
        sg.issuer.address,
        vn.issuer.address,
    )


def test_member_accounts_and_other_types_cannot_anchor(consortium):
    vn = consortium["VN"]
    by_member_account = consortium.registry.functions.anchorWithRoute(
        os.urandom(32), "coo/1", 1, [b"TH"]
    )
    assert consortium.chain.refused(vn.account, by_member_account)[0] == "IssuerNotAuthorised"
    other_type = consortium.registry.functions.anchorWithRoute(
        os.urandom(32), "permit/1", 1, [b"TH"]
    )
    refusal = consortium.chain.refused(vn.issuer, other_type)
    assert refusal[:4] == ("IssuerNotAuthorised", vn.issuer.address, keccak256(b"permit/1"), b"VN")


def test_suspended_members_key_cannot_anchor_but_its_earlier_batches_stay(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    tree, _ = batch(2)
    earlier = consortium.anchor(vn.issuer, tree.root, count=2)
    route_id = consortium.route(vn.issuer)
    consortium.govern(c.proposeSuspendMember(vn.member_id), "SG", "TH")
    call = consortium.registry.functions.anchorWithRoute(os.urandom(32), "coo/1", 1, [b"TH"])
    assert consortium.chain.refused(vn.issuer, call)[0] == "IssuerNotAuthorised"
    compact = consortium.registry.functions.anchor(os.urandom(32), route_id, 1)
    assert consortium.chain.refused(vn.issuer, compact)[:4] == (
        "IssuerNotAuthorised",
        vn.issuer.address,
        COO,
        b"VN",
    )
    assert c.isAuthorised(vn.issuer.address, COO, b"VN", earlier["blockNumber"]).call()
    assert consortium.registry.functions.isAnchored(tree.root).call()
    # readmitted: the same route works again
    consortium.govern(c.proposeReadmitMember(vn.member_id), "SG", "TH")
    consortium.chain.transact(
        vn.issuer, consortium.registry.functions.anchor(os.urandom(32), route_id, 1)
    )


def test_revoked_key_cannot_anchor_and_the_rotated_key_can(consortium):
    c = consortium.consortium.functions
    vn = consortium["VN"]
    old_route = consortium.route(vn.issuer)
    new_key = Account.create()
    consortium.chain.fund(new_key)
    consortium.govern(
        c.proposeRotateKey(vn.member_id, vn.issuer.address, new_key.address, COO), "VN", "SG"
    )
    call = consortium.registry.functions.anchorWithRoute(os.urandom(32), "coo/1", 1, [b"TH"])
    assert consortium.chain.refused(vn.issuer, call)[0] == "IssuerNotAuthorised"
    compact = consortium.registry.functions.anchor(os.urandom(32), old_route, 1)
    assert consortium.chain.refused(vn.issuer, compact)[0] == "IssuerNotAuthorised"
    consortium.anchor(new_key, os.urandom(32))
    assert consortium.route(new_key) != old_route  # routes belong to an issuer key


def test_the_cached_anchoring_rights_follow_governance_from_the_next_block(consortium):
    c = consortium.consortium.functions
    r = consortium.registry.functions
    vn = consortium["VN"]
    chain = consortium.chain

    def covers(account, type_id, block):
        _key, _member, _country, valid_from, valid_until, _routes = r.anchorAuthority(
            account, type_id
        ).call()
        return valid_from <= block < valid_until

    def agree(account, type_id):
        head = chain.block_number()
        for block in (head, head + 1, head + 7):
            expected = c.authorityAt(account, type_id, block).call()[2]
            assert covers(account, type_id, block) == expected, (account, block)

    permit = keccak256(b"permit/1")
    agree(vn.issuer.address, COO)
    agree(vn.issuer.address, permit)
    consortium.govern(c.proposeAddKey(vn.member_id, vn.issuer.address, permit), "VN", "SG")
    agree(vn.issuer.address, permit)
    assert r.anchorAuthority(vn.issuer.address, permit).call()[1:3] == [vn.member_id, b"VN"]
    consortium.govern(c.proposeSuspendMember(vn.member_id), "SG", "TH")
    agree(vn.issuer.address, COO)
    agree(vn.issuer.address, permit)
    consortium.govern(c.proposeReadmitMember(vn.member_id), "SG", "TH")
    agree(vn.issuer.address, COO)
    consortium.govern(c.proposeRevokeKey(vn.member_id, vn.issuer.address, permit), "VN", "TH")
    agree(vn.issuer.address, permit)
    agree(vn.issuer.address, COO)


def test_the_registry_attaches_once_in_the_consortium_deployers_transaction(consortium):
    chain = consortium.chain
    art = artifact("DocumentRegistry")
    constructor = chain.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(
        consortium.consortium.address
    )

    class Deployment:
        fn_name = "constructor"

        def call(self, transaction):
            return chain.w3.eth.call({**transaction, "data": constructor.data_in_transaction})

    assert chain.error_of(consortium.deployer, Deployment()) == (
        "RegistryAlreadyAttached",
        consortium.registry.address,
    )
    assert consortium.consortium.functions.documentRegistry().call() == (
        consortium.registry.address
    )
    update = consortium.registry.functions.setAnchorAuthorities(
        [(consortium.outsider.address, COO, 1, b"VN", 0, 2**64 - 1)]
    )
    assert chain.refused(consortium.outsider, update) == (
        "NotConsortium",
        consortium.outsider.address,
    )


@pytest.mark.parametrize(
    ("root", "route", "count", "value", "error"),
    [
        (b"\0" * 32, None, 1, 0, ("ZeroRoot",)),
        (None, None, 0, 0, ("EmptyBatch",)),
        (None, None, 2**32, 0, ("BatchTooLarge", 2**32)),
        (None, None, 1, 1, ("ValueNotAccepted", 1)),
        (None, "unregistered", 1, 0, ("UnknownRoute", None)),
        (None, "too large", 1, 0, ("UnknownRoute", None)),
    ],
)
def test_malformed_compact_anchors_are_refused(consortium, root, route, count, value, error):
    vn = consortium["VN"]
    route_id = consortium.route(vn.issuer)
    if route == "unregistered":
        route_id += 1
    elif route == "too large":
        route_id |= 1 << 48
    call = consortium.registry.functions.anchor(root or os.urandom(32), route_id, count)
    if value:
        refusal = consortium.chain.error_of(vn.issuer, _with_value(call, value))
    else:
        refusal = consortium.chain.refused(vn.issuer, call)
    expected = error if error[1:] != (None,) else (error[0], route_id)
    assert refusal == expected


def _with_value(function_call, value):
    class WithValue:
        fn_name = function_call.fn_name

        def call(self, transaction):
            return function_call.call({**transaction, "value": value})

    return WithValue()


@pytest.mark.parametrize(
    ("root", "count", "addressees", "error"),
    [
        (b"\0" * 32, 1, [b"TH"], ("ZeroRoot",)),
        (None, 0, [b"TH"], ("EmptyBatch",)),
        (None, 1, [], ("NoAddressees",)),
        (None, 1, [b"TH", b"SG"], ("AddresseesNotSorted", 1)),
        (None, 1, [b"SG", b"SG"], ("AddresseesNotSorted", 1)),
        (None, 1, [b"th"], ("InvalidCountryCode", b"th")),
    ],
)
def test_malformed_batches_are_refused(consortium, root, count, addressees, error):
    call = consortium.registry.functions.anchorWithRoute(
        root or os.urandom(32), "coo/1", count, addressees
    )
    assert consortium.chain.refused(consortium["VN"].issuer, call) == error


# ------------------------------------------------------------------ relayed anchoring


def test_contract_digest_matches_eip712_typed_data(consortium):
    root = os.urandom(32)
    registry = consortium.registry
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "BatchAnchor": [
                {"name": "root", "type": "bytes32"},
                {"name": "documentType", "type": "string"},
                {"name": "documentCount", "type": "uint32"},
                {"name": "addressees", "type": "bytes2[]"},
            ],
        },
        "primaryType": "BatchAnchor",
        "domain": {
            "name": "docex",
            "version": "1",
            "chainId": consortium.chain.chain_id,
            "verifyingContract": registry.address,
        },
        "message": {
            "root": root,
            "documentType": "coo/1",
            "documentCount": 7,
            "addressees": [b"SG", b"TH"],
        },
    }
    message = encode_typed_data(full_message=typed)
    expected = keccak256(b"\x19" + message.version + message.header + message.body)
    assert registry.functions.batchAnchorDigest(root, "coo/1", 7, [b"SG", b"TH"]).call() == expected


def test_any_relayer_anchors_with_the_issuers_signature(consortium):
    vn = consortium["VN"]
    tree, _ = batch(5)
    signature = signed(consortium, vn.issuer, tree.root, count=5, addressees=("SG", "TH"))
    relayer = consortium.outsider
    receipt = consortium.chain.transact(
        relayer,
        consortium.registry.functions.anchorSigned(
            tree.root, "coo/1", 5, [b"SG", b"TH"], signature
        ),
    )
    (event,) = log(consortium, "BatchAnchored", receipt)
    (relayed,) = log(consortium, "BatchRelayed", receipt)
    (route,) = log(consortium, "RouteRegistered", receipt)
    assert event["root"] == relayed["root"] == tree.root
    assert route_and_count(event) == (route["routeId"], 5)
    assert relayed["issuer"] == route["issuer"] == vn.issuer.address
    assert relayed["submitter"] == relayer.address
    assert route["issuerMember"] == vn.member_id


def _relay(consortium, root, signature, count=1, addressees=(b"TH",), document_type="coo/1"):
    call = consortium.registry.functions.anchorSigned(
        root, document_type, count, list(addressees), signature
    )
    return consortium.chain.refused(consortium.outsider, call)


def test_signature_for_another_chain_is_refused(consortium):
    vn = consortium["VN"]
    root = os.urandom(32)
    signature = signed(consortium, vn.issuer, root, chain_id=consortium.chain.chain_id + 1)
    refusal = _relay(consortium, root, signature)
    assert refusal[0] == "IssuerNotAuthorised"
    assert refusal[1] != vn.issuer.address


def test_signature_for_another_registry_is_refused(consortium, consortium_factory):
    vn = consortium["VN"]
    other = consortium_factory(consortium.chain).registry  # another consortium's registry
    root = os.urandom(32)
    signature = signed(consortium, vn.issuer, root, registry=other.address)
    refusal = _relay(consortium, root, signature)
    assert refusal[0] == "IssuerNotAuthorised"
    assert refusal[1] != vn.issuer.address


@pytest.mark.parametrize(
    "tamper",
    [
        {"root": True},
        {"count": 2},
        {"addressees": (b"SG", b"TH")},
        {"document_type": "permit/1"},
    ],
    ids=["root", "count", "addressees", "type"],
)
def test_signature_over_other_fields_is_refused(consortium, tamper):
    vn = consortium["VN"]
    root = os.urandom(32)
    signature = signed(consortium, vn.issuer, root)
    sent_root = os.urandom(32) if tamper.get("root") else root
    refusal = _relay(
        consortium,
        sent_root,
        signature,
        count=tamper.get("count", 1),
        addressees=tamper.get("addressees", (b"TH",)),
        document_type=tamper.get("document_type", "coo/1"),
    )
    assert refusal[0] == "IssuerNotAuthorised"
    assert refusal[1] != vn.issuer.address


def test_high_s_signature_is_refused(consortium):
    vn = consortium["VN"]
    root = os.urandom(32)
    signature = signed(consortium, vn.issuer, root)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    high_s = (SECP256K1_N - s).to_bytes(32, "big")
    malleated = r + high_s + bytes([55 - v])  # the same signer, the other s
    assert _relay(consortium, root, malleated) == ("ECDSAInvalidSignatureS", high_s)
    assert _relay(consortium, root, signature[:64]) == ("ECDSAInvalidSignatureLength", 64)


# ------------------------------------------------------------------ revoke and supersede


def test_issuer_member_revokes_with_a_proof_and_revocation_is_final(consortium):
    vn = consortium["VN"]
    tree, targets = batch(5)
    consortium.anchor(vn.issuer, tree.root, count=5)
    r = consortium.registry.functions
    receipt = consortium.chain.transact(
        vn.account, r.revoke(tree.root, targets[3], tree.proof(3), 17)
    )
    (event,) = log(consortium, "DocumentRevoked", receipt)
    assert (event["targetHash"], event["issuerMember"], event["root"], event["reasonCode"]) == (
        targets[3],
        vn.member_id,
        tree.root,
        17,
    )
    assert r.documentState(vn.member_id, targets[3]).call()[0] == 1
    assert consortium.chain.refused(
        vn.issuer, r.revoke(tree.root, targets[3], tree.proof(3), 1)
    ) == (
        "DocumentIsRevoked",
        targets[3],
    )
    # Re-anchoring the same document in a new batch does not revive it.
    th_terms = DocumentTerms(("TH",), 1)
    again = MerkleTree.build_with_terms([(targets[3], th_terms), (os.urandom(32), th_terms)])
    consortium.anchor(vn.issuer, again.root, count=2)
    successor_target = os.urandom(32)
    successor = MerkleTree.build([successor_target])
    consortium.anchor(vn.issuer, successor.root)
    supersede = r.supersede(
        again.root, targets[3], again.proof(0), successor.root, successor_target, []
    )
    assert consortium.chain.refused(vn.account, supersede)[0] == "DocumentIsRevoked"
    use = r.recordUse(again.root, targets[3], again.proof(0), [b"TH"], 1, os.urandom(32), 1)
    assert consortium.chain.refused(consortium["TH"].account, use) == (
        "DocumentIsRevoked",
        targets[3],
    )


def test_single_document_batch_has_root_equal_to_leaf_and_empty_proof(consortium):
    vn = consortium["VN"]
    (target,) = documents(1)
    tree = MerkleTree.build([target])
    consortium.anchor(vn.issuer, tree.root)
    r = consortium.registry.functions
    assert r.proves(tree.root, target, []).call()
    consortium.chain.transact(vn.issuer, r.revoke(tree.root, target, [], 0))


def test_other_members_cannot_revoke_or_supersede(consortium):
    vn, sg = consortium["VN"], consortium["SG"]
    tree, targets = batch(4)
    consortium.anchor(vn.issuer, tree.root, count=4)
    r = consortium.registry.functions
    revoke = r.revoke(tree.root, targets[0], tree.proof(0), 0)
    assert consortium.chain.refused(sg.account, revoke) == (
        "NotIssuerMember",
        sg.account.address,
        sg.member_id,
        vn.member_id,
    )
    assert consortium.chain.refused(consortium.outsider, revoke)[0] == "NotActiveAccount"


def test_a_wrong_proof_is_refused(consortium):
    vn = consortium["VN"]
    tree, targets = batch(4)
    consortium.anchor(vn.issuer, tree.root, count=4)
    r = consortium.registry.functions
    call = r.revoke(tree.root, targets[0], tree.proof(1), 0)
    assert consortium.chain.refused(vn.account, call) == ("InvalidProof", tree.root, targets[0])
    stranger = os.urandom(32)
    call = r.revoke(tree.root, stranger, tree.proof(0), 0)
    assert consortium.chain.refused(vn.account, call) == ("InvalidProof", tree.root, stranger)
    unanchored = os.urandom(32)
    call = r.revoke(unanchored, targets[0], [], 0)
    assert consortium.chain.refused(vn.account, call) == ("NotAnchored", unanchored)


def test_another_member_anchoring_the_same_document_cannot_touch_the_issuers_record(consortium):
    vn, sg = consortium["VN"], consortium["SG"]
    tree, targets = batch(2)
    consortium.anchor(vn.issuer, tree.root, count=2)
    copy = MerkleTree.build([targets[0]])
    consortium.anchor(sg.issuer, copy.root)
    r = consortium.registry.functions
    consortium.chain.transact(sg.account, r.revoke(copy.root, targets[0], [], 0))
    assert r.documentState(vn.member_id, targets[0]).call()[0] == 0
    assert r.documentState(sg.member_id, targets[0]).call()[0] == 1


def test_issuer_supersedes_a_document_with_its_amendment(consortium):
    vn = consortium["VN"]
    th_terms = DocumentTerms(("TH",), 1)
    tree, targets = terms_batch(th_terms, th_terms, th_terms)
    consortium.anchor(vn.issuer, tree.root, count=3)
    r = consortium.registry.functions
    amended = documents(1)[0]
    amendment = MerkleTree.build([amended, os.urandom(32)])
    consortium.anchor(vn.issuer, amendment.root, count=2)
    call = r.supersede(
        tree.root, targets[1], tree.proof(1), amendment.root, amended, amendment.proof(0)
    )
    receipt = consortium.chain.transact(vn.account, call)
    (event,) = log(consortium, "DocumentSuperseded", receipt)
    assert event["successorTargetHash"] == amended
    assert event["successorRoot"] == amendment.root
    assert r.documentState(vn.member_id, targets[1]).call()[:2] == [2, amended]
    assert consortium.chain.refused(vn.account, call) == (
        "DocumentIsSuperseded",
        targets[1],
        amended,
    )
    use = use_call(r, tree, targets, 1, th_terms, 1)
    assert consortium.chain.refused(consortium["TH"].account, use)[0] == "DocumentIsSuperseded"
    # A superseded document can still be revoked, and then never comes back.
    consortium.chain.transact(vn.account, r.revoke(tree.root, targets[1], tree.proof(1), 9))
    assert r.documentState(vn.member_id, targets[1]).call()[0] == 1


def test_supersede_refuses_itself_and_successors_of_other_members(consortium):
    vn, sg = consortium["VN"], consortium["SG"]
    tree, targets = batch(2)
    consortium.anchor(vn.issuer, tree.root, count=2)
    foreign_target = os.urandom(32)
    foreign = MerkleTree.build([foreign_target])
    consortium.anchor(sg.issuer, foreign.root)
    r = consortium.registry.functions
    to_self = r.supersede(
        tree.root, targets[0], tree.proof(0), tree.root, targets[0], tree.proof(0)
    )
    assert consortium.chain.refused(vn.account, to_self) == ("SupersedeBySelf", targets[0])
    to_foreign = r.supersede(tree.root, targets[0], tree.proof(0), foreign.root, foreign_target, [])
    assert consortium.chain.refused(vn.account, to_foreign) == (
        "SuccessorOfOtherMember",
        foreign.root,
        sg.member_id,
        vn.member_id,
    )


# ------------------------------------------------------------------ uses and rejections


def test_addressee_records_uses_up_to_the_allowance_its_issuer_committed(consortium):
    vn, th = consortium["VN"], consortium["TH"]
    hundred = DocumentTerms(("TH",), 100)
    tree, targets = terms_batch(DocumentTerms(("TH",), 1), DocumentTerms(("TH",), 7), hundred)
    consortium.anchor(vn.issuer, tree.root, count=3, addressees=("TH",))
    r = consortium.registry.functions
    declaration = os.urandom(32)
    receipt = consortium.chain.transact(
        th.account, use_call(r, tree, targets, 2, hundred, 60, declaration)
    )
    (event,) = log(consortium, "DocumentUsed", receipt)
    assert (event["declarationRef"], event["userMember"], event["userCountry"]) == (
        declaration,
        th.member_id,
        b"TH",
    )
    assert (event["quantity"], event["usedQuantity"], event["allowedQuantity"]) == (60, 60, 100)
    over = use_call(r, tree, targets, 2, hundred, 41)
    assert consortium.chain.refused(th.account, over) == ("OverUse", targets[2], 100, 60, 41)
    consortium.chain.transact(th.issuer, use_call(r, tree, targets, 2, hundred, 40))
    assert r.documentState(vn.member_id, targets[2]).call()[2:] == [100, 100]
    last = use_call(r, tree, targets, 2, hundred, 1)
    assert consortium.chain.refused(th.account, last) == ("OverUse", targets[2], 100, 100, 1)


def test_the_user_never_picks_the_allowance(consortium):
    """Attack: the addressee claims a larger allowance than the issuer committed (or another
    document's allowance): the terms leaf does not match and the use is refused."""
    vn, th = consortium["VN"], consortium["TH"]
    single = DocumentTerms(("TH",), 1)
    tree, targets = terms_batch(single, DocumentTerms(("TH",), 1000))
    consortium.anchor(vn.issuer, tree.root, count=2)
    r = consortium.registry.functions
    for claimed in (DocumentTerms(("TH",), 1000), DocumentTerms(("TH",), 2)):
        inflated = use_call(r, tree, targets, 0, claimed, 2)
        assert consortium.chain.refused(th.account, inflated) == (
            "InvalidTermsProof",
            tree.root,
            targets[0],
        )
    consortium.chain.transact(th.account, use_call(r, tree, targets, 0, single, 1))
    again = use_call(r, tree, targets, 0, single, 1)
    assert consortium.chain.refused(th.account, again) == ("OverUse", targets[0], 1, 1, 1)
    zero = use_call(r, tree, targets, 1, DocumentTerms(("TH",), 1000), 0)
    assert consortium.chain.refused(th.account, zero) == ("ZeroQuantity",)


def test_a_reanchored_document_with_another_allowance_cannot_reset_the_limit(consortium):
    """Attack (re-anchor): the same document anchored again with a larger allowance; the
    allowance recorded at the first use stands."""
    vn, th = consortium["VN"], consortium["TH"]
    one = DocumentTerms(("TH",), 1)
    tree, targets = terms_batch(one)
    consortium.anchor(vn.issuer, tree.root)
    r = consortium.registry.functions
    consortium.chain.transact(th.account, use_call(r, tree, targets, 0, one, 1))
    more = DocumentTerms(("TH",), 50)
    again = MerkleTree.build_with_terms([(targets[0], more)])
    consortium.anchor(vn.issuer, again.root)
    call = use_call(r, again, targets, 0, more, 1)
    assert consortium.chain.refused(th.account, call) == (
        "AllowanceMismatch",
        targets[0],
        1,
        50,
    )


def test_only_the_documents_own_addressee_records_uses_and_rejections(consortium):
    """Attack: SG is an addressee of another document of the same batch (and of the batch),
    not of this one; it can neither use nor reject this one, even claiming to be."""
    vn, sg, th = consortium["VN"], consortium["SG"], consortium["TH"]
    for_th, for_sg = DocumentTerms(("TH",), 1), DocumentTerms(("SG",), 1)
    tree, targets = terms_batch(for_th, for_sg)
    consortium.anchor(vn.issuer, tree.root, count=2, addressees=("SG", "TH"))
    r = consortium.registry.functions
    use = use_call(r, tree, targets, 0, for_th, 1)
    reject = reject_call(r, tree, targets, 0, for_th)
    for call in (use, reject):
        assert consortium.chain.refused(sg.account, call) == (
            "NotAddressee",
            sg.account.address,
            b"SG",
            tree.root,
        )
        assert consortium.chain.refused(vn.account, call)[0] == "NotAddressee"
        assert consortium.chain.refused(consortium.outsider, call)[0] == "NotActiveAccount"
    # claiming SG among the document's addressees does not match what the issuer committed
    forged = DocumentTerms(("SG", "TH"), 1)
    for call in (
        use_call(r, tree, targets, 0, forged, 1),
        reject_call(r, tree, targets, 0, forged),
    ):
        assert consortium.chain.refused(sg.account, call)[0] == "InvalidTermsProof"
    # nor does presenting the other document's terms (SG) for this document
    for call in (
        use_call(r, tree, targets, 0, for_sg, 1),
        reject_call(r, tree, targets, 0, for_sg),
    ):
        assert consortium.chain.refused(sg.account, call)[0] == "InvalidTermsProof"
    receipt = consortium.chain.transact(th.account, reject)
    (event,) = log(consortium, "DocumentRejected", receipt)
    assert (
        event["targetHash"],
        event["issuerMember"],
        event["rejecterMember"],
        event["reasonCode"],
    ) == (targets[0], vn.member_id, th.member_id, 3)
    consortium.chain.transact(sg.account, use_call(r, tree, targets, 1, for_sg, 1))


def test_a_batch_without_terms_leaves_cannot_be_used(consortium):
    """A tree without terms commits to no addressee: nobody can use or reject from it."""
    vn, th = consortium["VN"], consortium["TH"]
    tree, targets = batch(2)
    consortium.anchor(vn.issuer, tree.root, count=2)
    r = consortium.registry.functions
    th_terms = DocumentTerms(("TH",), 1)
    for call in (
        use_call(r, tree, targets, 0, th_terms, 1),
        reject_call(r, tree, targets, 0, th_terms),
    ):
        assert consortium.chain.refused(th.account, call)[0] == "InvalidTermsProof"


def test_terms_leaf_matches_the_contract(consortium):
    r = consortium.registry.functions
    target = os.urandom(32)
    terms = DocumentTerms(("KR", "SG", "TH"), 12345)
    assert r.termsLeaf(target, codes(terms), terms.allowance).call() == terms_leaf(target, terms)
    tree = MerkleTree.build_with_terms([(target, terms)])
    assert tree.proof(0) == (terms_leaf(target, terms),)
    consortium.anchor(consortium["VN"].issuer, tree.root, addressees=("KR", "SG", "TH"))
    assert r.provesTerms(tree.root, target, list(tree.proof(0)), codes(terms), 12345).call()
    assert r.proves(tree.root, target, list(tree.proof(0))).call()


def test_suspended_addressee_cannot_record_uses(consortium):
    c = consortium.consortium.functions
    vn, th = consortium["VN"], consortium["TH"]
    th_terms = DocumentTerms(("TH",), 1)
    tree, targets = terms_batch(th_terms, th_terms)
    consortium.anchor(vn.issuer, tree.root, count=2, addressees=("TH",))
    consortium.govern(c.proposeSuspendMember(th.member_id), "VN", "SG")
    use = use_call(consortium.registry.functions, tree, targets, 0, th_terms, 1)
    assert consortium.chain.refused(th.account, use)[0] == "NotActiveAccount"


# ------------------------------------------------------------------ the issuer check (attacks)

PERMIT = keccak256(b"permit/1")


def test_the_anchor_record_names_type_country_and_authority_at_the_anchor_block(consortium):
    vn = consortium["VN"]
    tree, targets = batch(2)
    receipt = consortium.anchor(vn.issuer, tree.root, count=2, addressees=("SG", "TH"))
    r = consortium.registry.functions
    record = list(r.anchorRecord(tree.root).call())
    assert record == [
        vn.issuer.address,
        vn.member_id,
        b"VN",
        COO,
        receipt["blockNumber"],
        [b"SG", b"TH"],
        True,
    ]
    assert r.issuedAs(tree.root, targets[1], tree.proof(1), COO, b"VN").call()
    assert not r.issuedAs(os.urandom(32), targets[1], tree.proof(1), COO, b"VN").call()
    assert not r.issuedAs(tree.root, os.urandom(32), tree.proof(1), COO, b"VN").call()


def test_a_revoked_right_is_not_laundered_through_another_type(consortium):
    """Attack: VN's key loses permit/1, signs a permit and anchors its batch as coo/1 (a type
    it still holds). The chain says the batch is coo/1: a verifier asking for the signed type
    (permit/1) gets false."""
    c = consortium.consortium.functions
    vn = consortium["VN"]
    consortium.govern(c.proposeAddKey(vn.member_id, vn.issuer.address, PERMIT), "VN", "SG")
    consortium.govern(c.proposeRevokeKey(vn.member_id, vn.issuer.address, PERMIT), "VN", "SG")
    tree, targets = batch(1)
    consortium.anchor(vn.issuer, tree.root, document_type="coo/1")
    r = consortium.registry.functions
    assert not r.issuedAs(tree.root, targets[0], [], PERMIT, b"VN").call()
    refused = consortium.chain.refused(
        vn.issuer, r.anchorWithRoute(os.urandom(32), "permit/1", 1, [b"TH"])
    )
    assert refused[0] == "IssuerNotAuthorised"


def test_another_issuing_country_is_not_green(consortium):
    """Attack: a document signed as issued by SG, anchored by VN's key."""
    vn = consortium["VN"]
    tree, targets = batch(1)
    consortium.anchor(vn.issuer, tree.root)
    r = consortium.registry.functions
    assert not r.issuedAs(tree.root, targets[0], [], COO, b"SG").call()
    assert r.issuedAs(tree.root, targets[0], [], COO, b"VN").call()


def test_a_relayed_anchor_records_the_signer_not_the_relayer(consortium):
    """Attack (relayer): an SG member account relays VN's signed batch; the record names VN's
    key and country, and the relayer gains nothing."""
    vn, sg = consortium["VN"], consortium["SG"]
    tree, targets = batch(1)
    signature = signed(consortium, vn.issuer, tree.root)
    r = consortium.registry.functions
    consortium.chain.transact(sg.account, r.anchorSigned(tree.root, "coo/1", 1, [b"TH"], signature))
    record = r.anchorRecord(tree.root).call()
    assert (record[0], record[1], record[2]) == (vn.issuer.address, vn.member_id, b"VN")
    assert not r.issuedAs(tree.root, targets[0], [], COO, b"SG").call()


def test_authority_is_judged_at_the_anchor_block_not_today(consortium):
    """Attack (amendment / re-anchor): a key suspended since cannot make an old batch red, and
    a batch anchored after its suspension never existed; a re-anchor by another member of the
    same document is recorded under that member's country."""
    c = consortium.consortium.functions
    vn, sg = consortium["VN"], consortium["SG"]
    tree, targets = batch(1)
    consortium.anchor(vn.issuer, tree.root)
    consortium.govern(c.proposeSuspendMember(vn.member_id), "SG", "TH")
    r = consortium.registry.functions
    assert r.anchorRecord(tree.root).call()[6] is True
    assert r.issuedAs(tree.root, targets[0], [], COO, b"VN").call()
    copy = MerkleTree.build([targets[0], os.urandom(32)])
    consortium.anchor(sg.issuer, copy.root, count=2)
    assert not r.issuedAs(copy.root, targets[0], copy.proof(0), COO, b"VN").call()
    assert r.issuedAs(copy.root, targets[0], copy.proof(0), COO, b"SG").call()
