"""Consortium governance from a node: list, propose and approve ConsortiumRegistry
proposals, and read the mutual-recognition agreements.

Proposals and approvals are sent by this member's governance account (the *member*
key, ``<country>-member.json`` beside the issuer keystore, passphrase beside it), not by
the issuer key that anchors batches: the registry admits governance calls only from an
account with an open member-account grant. Without that keystore the node can read but
not propose (503). Every transaction goes through a :class:`~ledger.TransactionManager`
over the node's journal, so a retried request never sends a second transaction.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount

from certificates.errors import DocexError
from certificates.hashes import to_hex
from certificates.json_types import JsonObject, JsonValue
from certificates.keccak import keccak256
from certificates.keystore import decrypt_keystore
from ledger import ConfirmedTransaction, TransactionManager, country_code, queries, type_id
from ledger.keystores import signer_from_key
from node.chain.ledger_link import LedgerLink
from node.consortium.commands import (
    AddAgreement,
    AddAuditorKey,
    AddKey,
    AdmitMember,
    ChangeQuorum,
    ProposalAction,
    ReadmitMember,
    RemoveAuditorKey,
    RevokeKey,
    RotateKey,
    SetEncryptionKey,
    SuspendMember,
    WithdrawAgreement,
)
from node.errors import GovernanceUnavailable, InvalidRequestBody

#: the member-account role's "document type" (``typeId == bytes32(0)``)
MEMBER_ACCOUNT: Final = "member"
#: ProposalKind in declaration order: (action, payload field names)
PROPOSAL_KINDS: Final = (
    ("admitMember", ("country", "name", "account")),
    ("suspendMember", ("memberId",)),
    ("readmitMember", ("memberId",)),
    ("changeQuorum", ("quorum",)),
    ("addKey", ("memberId", "account", "typeId")),
    ("rotateKey", ("memberId", "oldAccount", "newAccount", "typeId")),
    ("revokeKey", ("memberId", "account", "typeId")),
    ("addAgreement", ("verifierCountry", "issuerCountry", "typeId", "validFrom", "validUntil")),
    ("withdrawAgreement", ("verifierCountry", "issuerCountry", "typeId")),
    ("setEncryptionKey", ("memberId", "publicKey")),
    ("addAuditorKey", ("name", "publicKey")),
    ("removeAuditorKey", ("auditorKeyId",)),
)
PROPOSAL_STATES: Final = ("none", "pending", "executed", "rejected", "withdrawn", "expired")
PROPOSAL_CREATED: Final = keccak256(b"ProposalCreated(uint256,uint32,uint8,bytes)")


def _function_of(action: str) -> str:
    return "propose" + action[0].upper() + action[1:]


def member_keystore_path(issuer_keystore: Path, country: str) -> Path:
    """Where the dev consortium (and an operator following it) keeps the member key."""
    return issuer_keystore.with_name(f"{country}-member.json")


def _read_key(path: Path) -> LocalAccount:
    keystore = json.loads(path.read_text(encoding="utf-8"))
    passphrase = path.with_suffix(".passphrase").read_text(encoding="utf-8").splitlines()[0]
    return signer_from_key(decrypt_keystore(keystore, passphrase))


class Governance:
    """This member's view of, and votes in, the consortium registry."""

    def __init__(
        self,
        ledger: LedgerLink,
        *,
        member_keystore: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ledger = ledger
        self._member_keystore = member_keystore
        self._clock = clock
        self._lock = threading.Lock()
        self._member: tuple[TransactionManager, LocalAccount] | None = None

    def _type_names(self) -> dict[bytes, str]:
        names = {type_id(t): t for t in self._ledger.deployment.document_types}
        names[bytes(32)] = MEMBER_ACCOUNT
        return names

    def _type_id(self, document_type: str) -> bytes:
        if document_type == MEMBER_ACCOUNT:
            return bytes(32)
        if document_type not in self._ledger.deployment.document_types:
            known = ", ".join([*self._ledger.deployment.document_types, MEMBER_ACCOUNT])
            raise InvalidRequestBody(
                f"unknown document type {document_type!r}; known: {known}",
                path="/documentType",
                errors=(("/documentType", f"not one of {known}"),),
            )
        return type_id(document_type)

    def _member_manager(self) -> tuple[TransactionManager, LocalAccount]:
        """The member account's transaction manager (journal shared with the node), made
        once; its unfinished transactions are finished first."""
        with self._lock:
            if self._member is None:
                ledger = self._ledger
                path = self._member_keystore
                try:
                    account = _read_key(path)
                except (OSError, ValueError, IndexError, DocexError) as error:
                    raise GovernanceUnavailable(
                        f"this node has no usable member key at {path}: {error}"
                    ) from error
                manager = TransactionManager(
                    ledger.chain,
                    ledger.journal,
                    [account],
                    confirmations=ledger.manager.confirmations,
                    revert_decoder=ledger.manager.revert_decoder,
                )
                manager.resume()
                self._member = (manager, account)
            return self._member

    def _send(self, key: str, function: str, *args: Any) -> ConfirmedTransaction:
        ledger = self._ledger
        manager, account = self._member_manager()
        request = ledger.consortium.request(
            f"{key}/{ledger.deployment.chain_id}/{account.address}", function, *args
        )
        manager.submit(account.address, request)
        return manager.wait(request.key)

    # --- reading ----------------------------------------------------------------------------

    def _payload_json(self, kind: int, payload: bytes) -> JsonObject:
        action, names = PROPOSAL_KINDS[kind]
        codec = self._ledger.consortium.abi.function(_function_of(action))
        values = abi_decode(list(codec.input_types), payload)
        type_names = self._type_names()
        body: dict[str, JsonValue] = {"action": action}
        for name, value in zip(names, values, strict=True):
            if name == "typeId":
                body["documentType"] = type_names.get(value, to_hex(value))
            elif name == "publicKey":
                body[name] = to_hex(value)
            elif isinstance(value, bytes):
                body[name] = value.decode("ascii", "replace")
            else:
                body[name] = value
        return body

    def proposal(self, proposal_id: int) -> JsonObject:
        ledger = self._ledger
        consortium, chain = ledger.consortium, ledger.chain
        decoder = ledger.manager.revert_decoder
        kind, state, proposer, payload = consortium.call(
            chain, "proposal", proposal_id, decoder=decoder
        )
        (approvals,) = consortium.call(chain, "approvalCount", proposal_id, decoder=decoder)
        return {
            "id": proposal_id,
            "status": PROPOSAL_STATES[state],
            "proposerMember": proposer,
            "approvals": approvals,
            "proposal": self._payload_json(kind, payload),
        }

    def proposals(self, limit: int, offset: int) -> JsonObject:
        """Proposals, newest first, with their approvals and the quorum."""
        ledger = self._ledger
        (count,) = ledger.consortium.call(ledger.chain, "proposalCount")
        (quorum,) = ledger.consortium.call(ledger.chain, "quorum")
        newest = count - offset
        ids = range(newest, max(newest - limit, 0), -1)
        return {
            "total": count,
            "quorum": quorum,
            "proposals": [self.proposal(proposal_id) for proposal_id in ids],
        }

    def agreements(self) -> JsonObject:
        """Every recognition window the index knows, withdrawals applied."""
        ledger = self._ledger
        type_names = self._type_names()
        now = int(self._clock())
        return {
            "agreements": [
                {
                    "verifierCountry": window.verifier_country,
                    "issuerCountry": window.issuer_country,
                    "documentType": type_names.get(window.type_id, to_hex(window.type_id)),
                    "validFrom": window.valid_from,
                    "validUntil": window.valid_until,
                    "inForce": window.covers(now),
                }
                for window in queries.agreements(ledger.index)
            ]
        }

    # --- voting -------------------------------------------------------------------------------

    def _arguments(self, action: ProposalAction) -> tuple[Any, ...]:
        match action:
            case AdmitMember():
                return (country_code(action.country), action.name, action.account)
            case SuspendMember() | ReadmitMember():
                return (action.member_id,)
            case ChangeQuorum():
                # the contracts fix the quorum as a fraction of the active members
                raise InvalidRequestBody(
                    "the quorum is a fraction of the active members fixed at deployment; "
                    "it cannot be changed by a proposal",
                    path="/action",
                    errors=(("/action", "changeQuorum is no longer a proposal"),),
                )
            case AddKey() | RevokeKey():
                return (action.member_id, action.account, self._type_id(action.document_type))
            case RotateKey():
                return (
                    action.member_id,
                    action.old_account,
                    action.new_account,
                    self._type_id(action.document_type),
                )
            case AddAgreement():
                return (
                    country_code(action.verifier_country),
                    country_code(action.issuer_country),
                    self._type_id(action.document_type),
                    action.valid_from,
                    action.valid_until,
                )
            case WithdrawAgreement():
                return (
                    country_code(action.verifier_country),
                    country_code(action.issuer_country),
                    self._type_id(action.document_type),
                )
            case SetEncryptionKey():
                return (action.member_id, bytes.fromhex(action.public_key[2:]))
            case AddAuditorKey():
                return (action.name, bytes.fromhex(action.public_key[2:]))
            case RemoveAuditorKey():
                return (action.auditor_key_id,)

    def propose(self, action: ProposalAction, idempotency_key: str | None) -> JsonObject:
        """Send the proposal; the same ``idempotency_key`` again returns the first one."""
        arguments = self._arguments(action)
        token = (
            keccak256(idempotency_key.encode("utf-8")).hex()
            if idempotency_key is not None
            else uuid.uuid4().hex
        )
        confirmed = self._send(f"propose/{token}", _function_of(action.action), *arguments)
        proposal_id = self._created_id(confirmed)
        return {
            "txHash": confirmed.tx_hash,
            "blockNumber": confirmed.block_number,
            **self.proposal(proposal_id),
        }

    def _created_id(self, confirmed: ConfirmedTransaction) -> int:
        address = self._ledger.consortium.address.lower()
        for log in confirmed.logs:
            topics = [str(topic) for topic in log.get("topics", ())]
            if (
                str(log.get("address", "")).lower() == address
                and topics
                and bytes.fromhex(topics[0][2:]) == PROPOSAL_CREATED
            ):
                return int(topics[1], 16)
        raise GovernanceUnavailable("the proposal transaction created no proposal")

    def approve(self, proposal_id: int) -> JsonObject:
        """This member's approval (once: a retry returns the first transaction)."""
        self.proposal(proposal_id)  # an unknown proposal is 404 before anything is sent
        confirmed = self._send(f"approve/{proposal_id}", "approve", proposal_id)
        return {
            "txHash": confirmed.tx_hash,
            "blockNumber": confirmed.block_number,
            **self.proposal(proposal_id),
        }
