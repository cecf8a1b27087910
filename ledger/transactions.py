"""The transaction manager: sign locally, journal, send, confirm, and never lose or repeat.

For each transaction:

1. the caller names it with an idempotency ``key`` (asking twice with one key gives
   the first transaction back, before or after a restart);
2. gas is estimated (a revert is reported here, typed, before anything is signed);
3. under the account's lock (and the journal's lock file, against other processes on
   the same journal) a nonce is allocated from a local sequence, never below the
   journal's next, the transaction is signed with the account's key, and **journalled
   durably**;
4. only then is it sent raw (``eth_sendRawTransaction``); no node account is used;
5. :meth:`TransactionManager.wait` polls for a receipt of any attempt at that nonce,
   replaces a stuck transaction at the same nonce with a higher fee, and returns once
   the receipt has the configured number of confirmations.

After a crash, :meth:`TransactionManager.reconcile` compares the journal with the chain:
a transaction journalled but perhaps never sent is re-sent **with the same signed
bytes** (so it cannot land twice: same nonce, same hash), a sent one is looked up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ledger.chains import Chain
from ledger.errors import (
    ContractReverted,
    RpcError,
    RpcUnreachable,
    TransactionConflict,
    TransactionNotConfirmed,
    TransactionRejected,
    UnknownTransaction,
)
from ledger.journal import Attempt, Journal, JournalEntry, TxStatus
from ledger.nonces import NonceSequences
from ledger.reverts import RevertDecoder, revert_data_of

#: Called at each point of a send: "journalled" (written, not yet sent) and "sent".
#: Tests inject a crash here; production leaves it unset.
SendHook = Callable[[str, JournalEntry], None]

_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")
_NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "correct nonce", "nonce_too_low")
_UNDERPRICED = ("underpriced", "replacement transaction", "fee too low", "gas price too low")


@dataclass(frozen=True, slots=True)
class TxRequest:
    """A transaction the caller intends, named by a key unique for its effect."""

    key: str
    to: str | None
    data: bytes = b""
    value: int = 0
    gas: int | None = None


@dataclass(frozen=True, slots=True)
class Fees:
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None  # legacy chains without a base fee

    def bumped(self, percent: int) -> Fees:
        def up(value: int | None) -> int | None:
            return None if value is None else value + max(value * percent // 100, 1)

        return Fees(up(self.max_fee_per_gas), up(self.max_priority_fee_per_gas), up(self.gas_price))

    def at_least(self, other: Fees) -> Fees:
        def hi(a: int | None, b: int | None) -> int | None:
            return a if b is None else b if a is None else max(a, b)

        return Fees(
            hi(self.max_fee_per_gas, other.max_fee_per_gas),
            hi(self.max_priority_fee_per_gas, other.max_priority_fee_per_gas),
            hi(self.gas_price, other.gas_price),
        )


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """How fees are chosen: EIP-1559 where the chain has a base fee, legacy otherwise."""

    #: Tip per gas; ``None`` asks the node once (``eth_maxPriorityFeePerGas``).
    priority_fee: int | None = None
    #: maxFeePerGas = base fee x this + tip: room for base-fee rises while queued.
    base_fee_multiplier: int = 2
    #: A replacement pays this much more (nodes require >= 10 %).
    bump_percent: int = 15
    #: Gas added to each estimate, in percent.
    gas_margin_percent: int = 20


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What :meth:`TransactionManager.replay_lost` re-sent, and what the chain refused."""

    replayed: tuple[str, ...] = ()
    #: journal key -> the node's reason; that account's later transactions wait behind it
    refused: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConfirmedTransaction:
    key: str
    account: str
    nonce: int
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    contract_address: str | None
    logs: tuple[Mapping[str, Any], ...] = field(repr=False)


def _matches(error: RpcError, phrases: Iterable[str]) -> bool:
    text = error.rpc_message.lower()
    return any(phrase in text for phrase in phrases)


class TransactionManager:
    """Signs, journals, sends and confirms transactions for a set of local accounts."""

    def __init__(
        self,
        chain: Chain,
        journal: Journal,
        signers: Iterable[LocalAccount],
        *,
        confirmations: int = 1,
        fees: FeePolicy | None = None,
        revert_decoder: RevertDecoder | None = None,
        poll_interval: float = 0.02,
        receipt_timeout: float = 120.0,
        stuck_after: float = 30.0,
        on_send: SendHook | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if confirmations < 1:
            raise ValueError("confirmations must be at least 1 (the block that includes it)")
        self.chain = chain
        self.journal = journal
        self.chain_id = chain.chain_id
        self._signers: dict[str, LocalAccount] = {
            to_checksum_address(s.address): s for s in signers
        }
        self.confirmations = confirmations
        self.fee_policy = fees or FeePolicy()
        self.revert_decoder = revert_decoder or RevertDecoder()
        self.poll_interval = poll_interval
        self.receipt_timeout = receipt_timeout
        self.stuck_after = stuck_after
        self._on_send = on_send
        self._clock = clock
        self._sleep = sleep
        self._tip: int | None = fees.priority_fee if fees else None
        self._sequences = NonceSequences(self._starting_nonce)
        #: journalled but not accepted by a node yet, per account (re-sent before new ones)
        self._unsent: dict[str, set[str]] = {}

    @property
    def accounts(self) -> list[str]:
        return list(self._signers)

    # --- sending ----------------------------------------------------------------

    def submit(self, account: str, request: TxRequest) -> JournalEntry:
        """Journal and send ``request`` from ``account``; return its journal entry.

        Idempotent per ``request.key``: a key already journalled returns its entry and
        sends nothing new. Raises a :class:`ContractReverted` subclass if the call
        would revert, :class:`TransactionRejected` if the node refuses it.
        """
        account = to_checksum_address(account)
        signer = self._signer(account)
        existing = self.journal.get(request.key)
        if existing is not None and existing.status is not TxStatus.REJECTED:
            return existing
        gas = request.gas if request.gas is not None else self.estimate_gas(account, request)
        sequence = self._sequences.of(account)
        # the journal's lock file holds off other docex processes sharing this journal
        with sequence.lock, self.journal.exclusive():
            existing = self.journal.get(request.key)
            if existing is not None and existing.status is not TxStatus.REJECTED:
                return existing
            self._resend_unsent(account)
            for _ in range(3):
                # what another process journalled under the lock is taken
                sequence.advance_to(self.journal.next_nonce(self.chain_id, account))
                nonce = sequence.allocate()
                fees = self.quote_fees()
                attempt = self._sign(
                    signer, nonce, request.to, request.data, request.value, gas, fees
                )
                entry = JournalEntry(
                    key=request.key,
                    chain_id=self.chain_id,
                    account=account,
                    nonce=nonce,
                    to=request.to,
                    data=request.data,
                    value=request.value,
                    gas=gas,
                    status=TxStatus.SIGNED,
                    tx_hash=attempt.tx_hash,
                    block_number=None,
                    attempts=(attempt,),
                )
                try:
                    self.journal.record(entry)
                except BaseException:
                    # nothing journalled, nothing sent (a full disk): the nonce is free
                    # again, or every later transaction of the account waits behind a gap
                    sequence.release(nonce)
                    raise
                self._unsent.setdefault(account, set()).add(entry.key)
                self._hook("journalled", entry)
                try:
                    self._broadcast(attempt.raw)
                except RpcError as exc:
                    self._unsent[account].discard(entry.key)
                    self.journal.set_status(entry.key, TxStatus.REJECTED)
                    sequence.release(nonce)
                    if _matches(exc, _NONCE_TOO_LOW):
                        # someone else spends this account's nonces: start again from the chain
                        sequence.forget()
                        continue
                    raise TransactionRejected(
                        f"node refused transaction {entry.key}: {exc.rpc_message}"
                    ) from exc
                self._unsent[account].discard(entry.key)
                self.journal.set_status(entry.key, TxStatus.SENT)
                sent = self.journal.get(entry.key)
                assert sent is not None
                self._hook("sent", sent)
                return sent
        raise TransactionRejected(f"node kept refusing the nonce for {request.key}: nonce too low")

    def transact(self, account: str, request: TxRequest) -> ConfirmedTransaction:
        """:meth:`submit`, then :meth:`wait`."""
        self.submit(account, request)
        return self.wait(request.key)

    def estimate_gas(self, account: str, request: TxRequest) -> int:
        """Gas for ``request`` plus the policy's margin; a revert raises its typed error."""
        call: dict[str, Any] = {"from": account, "data": "0x" + request.data.hex()}
        if request.to is not None:
            call["to"] = request.to
        if request.value:
            call["value"] = hex(request.value)
        try:
            estimate = int(self.chain.request("eth_estimateGas", [call, "latest"]), 16)
        except RpcError as exc:
            raise self._revert_error(exc, action=request.key) from exc
        return estimate + estimate * self.fee_policy.gas_margin_percent // 100

    def quote_fees(self) -> Fees:
        block = self.chain.request("eth_getBlockByNumber", ["latest", False])
        base_fee = block.get("baseFeePerGas") if block else None
        if base_fee is None:
            return Fees(gas_price=int(self.chain.request("eth_gasPrice"), 16))
        tip = self._priority_fee()
        return Fees(
            max_fee_per_gas=int(base_fee, 16) * self.fee_policy.base_fee_multiplier + tip,
            max_priority_fee_per_gas=tip,
        )

    def _priority_fee(self) -> int:
        if self._tip is None:
            try:
                self._tip = int(self.chain.request("eth_maxPriorityFeePerGas"), 16)
            except RpcError:
                self._tip = 10**9
        return self._tip

    def _signer(self, account: str) -> LocalAccount:
        try:
            return self._signers[account]
        except KeyError:
            raise UnknownTransaction(f"no local key for account {account}") from None

    def _sign(
        self,
        signer: LocalAccount,
        nonce: int,
        to: str | None,
        data: bytes,
        value: int,
        gas: int,
        fees: Fees,
    ) -> Attempt:
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "value": value,
            "data": data,
            "gas": gas,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        if fees.gas_price is not None:
            tx["gasPrice"] = fees.gas_price
        else:
            tx["type"] = 2
            tx["maxFeePerGas"] = fees.max_fee_per_gas
            tx["maxPriorityFeePerGas"] = fees.max_priority_fee_per_gas
        signed = signer.sign_transaction(tx)
        return Attempt(
            tx_hash="0x" + bytes(signed.hash).hex(),
            raw=bytes(signed.raw_transaction),
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            gas_price=fees.gas_price,
        )

    def _broadcast(self, raw: bytes) -> None:
        """Send signed bytes; a node that already has them is a success."""
        try:
            self.chain.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if _matches(exc, _ALREADY_KNOWN):
                return
            raise

    def _resend_unsent(self, account: str) -> None:
        """Send, in nonce order, what was journalled but never accepted (called under lock)."""
        keys = self._unsent.get(account)
        if not keys:
            return
        entries = sorted(
            (e for k in list(keys) if (e := self.journal.get(k)) is not None),
            key=lambda e: e.nonce,
        )
        for entry in entries:
            self._rebroadcast(entry)
            keys.discard(entry.key)

    def _rebroadcast(self, entry: JournalEntry) -> None:
        try:
            self._broadcast(entry.attempts[-1].raw)
        except RpcError as exc:
            if not _matches(exc, _NONCE_TOO_LOW):
                raise TransactionRejected(
                    f"node refused journalled transaction {entry.key}: {exc.rpc_message}"
                ) from exc
            # its nonce is spent: by this transaction or an earlier attempt; wait() tells
        self.journal.set_status(entry.key, TxStatus.SENT)

    def _hook(self, point: str, entry: JournalEntry) -> None:
        if self._on_send is not None:
            self._on_send(point, entry)

    # --- confirming ---------------------------------------------------------------

    def wait(self, key: str, *, timeout: float | None = None) -> ConfirmedTransaction:
        """Block until ``key``'s transaction has the configured confirmations.

        A stuck transaction is replaced at the same nonce with a higher fee every
        ``stuck_after`` seconds. A transaction mined with status 0 raises its typed
        revert error (its nonce is spent: it is never resent).
        """
        entry = self._entry(key)
        if entry.status is TxStatus.REJECTED:
            raise TransactionRejected(f"transaction {key} was refused by the node; submit again")
        if entry.status is TxStatus.CONFLICT:
            raise TransactionConflict(
                f"nonce {entry.nonce} of {entry.account} was spent by a transaction not in "
                f"the journal (expected {key})"
            )
        deadline = self._clock() + (self.receipt_timeout if timeout is None else timeout)
        last_push = self._clock()
        while True:
            if entry.status is TxStatus.SIGNED:
                with self._sequences.of(entry.account).lock:
                    self._rebroadcast(entry)
                entry = self._entry(key)
            receipt = self._receipt_of(entry)
            if receipt is not None:
                confirmed = self._confirmed(entry, receipt)
                if confirmed is not None:
                    return confirmed
            elif self._clock() - last_push >= self.stuck_after:
                if self._nonce_spent(entry):
                    receipt = self._receipt_of(entry)
                    if receipt is None:
                        self.journal.set_status(key, TxStatus.CONFLICT)
                        raise TransactionConflict(
                            f"nonce {entry.nonce} of {entry.account} was spent by a "
                            f"transaction not in the journal (expected {key})"
                        )
                    continue
                self.replace(key)
                entry = self._entry(key)
                last_push = self._clock()
            if self._clock() >= deadline:
                raise TransactionNotConfirmed(
                    f"transaction {key} ({entry.tx_hash}) not confirmed "
                    f"with {self.confirmations} confirmation(s) in time"
                )
            self._sleep(self.poll_interval)

    def _confirmed(
        self, entry: JournalEntry, receipt: Mapping[str, Any]
    ) -> ConfirmedTransaction | None:
        block_number = int(receipt["blockNumber"], 16)
        if self.confirmations > 1:
            head = int(self.chain.request("eth_blockNumber"), 16)
            if head < block_number + self.confirmations - 1:
                return None
            # the receipt read before the head may be from a block since reorganised away
            receipt = self._receipt_of(entry) or {}
            if int(receipt.get("blockNumber", "0x0"), 16) != block_number:
                return None
        tx_hash = str(receipt["transactionHash"])
        if int(receipt.get("status", "0x1"), 16) == 0:
            self.journal.set_status(
                entry.key, TxStatus.REVERTED, tx_hash=tx_hash, block_number=block_number
            )
            raise self._replay_revert(entry, block_number)
        self.journal.set_status(
            entry.key, TxStatus.MINED, tx_hash=tx_hash, block_number=block_number
        )
        contract = receipt.get("contractAddress")
        return ConfirmedTransaction(
            key=entry.key,
            account=entry.account,
            nonce=entry.nonce,
            tx_hash=tx_hash,
            block_number=block_number,
            block_hash=str(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"], 16),
            contract_address=to_checksum_address(contract) if contract else None,
            logs=tuple(receipt.get("logs", ())),
        )

    def _receipt_of(self, entry: JournalEntry) -> Mapping[str, Any] | None:
        """The receipt of whichever attempt at this nonce was mined, if any."""
        hashes = [a.tx_hash for a in reversed(entry.attempts)] or [entry.tx_hash]
        receipts = self.chain.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        for receipt in receipts:
            if receipt and receipt.get("blockNumber"):
                return dict(receipt)
        return None

    def _nonce_spent(self, entry: JournalEntry) -> bool:
        mined = int(self.chain.request("eth_getTransactionCount", [entry.account, "latest"]), 16)
        return mined > entry.nonce

    def replace(self, key: str) -> JournalEntry:
        """Re-sign ``key``'s transaction at its nonce with a higher fee, journal it, send it."""
        entry = self._entry(key)
        if entry.status not in (TxStatus.SIGNED, TxStatus.SENT):
            return entry
        sequence = self._sequences.of(entry.account)
        with sequence.lock:
            last = entry.attempts[-1]
            previous = Fees(last.max_fee_per_gas, last.max_priority_fee_per_gas, last.gas_price)
            fees = previous.bumped(self.fee_policy.bump_percent).at_least(self.quote_fees())
            if (fees.gas_price is None) != (previous.gas_price is None):
                fees = previous.bumped(self.fee_policy.bump_percent)
            attempt = self._sign(
                self._signer(entry.account),
                entry.nonce,
                entry.to,
                entry.data,
                entry.value,
                entry.gas,
                fees,
            )
            self.journal.add_attempt(key, attempt)
            try:
                self._broadcast(attempt.raw)
            except RpcError as exc:
                if not (_matches(exc, _NONCE_TOO_LOW) or _matches(exc, _UNDERPRICED)):
                    raise TransactionRejected(
                        f"node refused replacement of {key}: {exc.rpc_message}"
                    ) from exc
            self.journal.set_status(key, TxStatus.SENT)
        return self._entry(key)

    def _entry(self, key: str) -> JournalEntry:
        entry = self.journal.get(key)
        if entry is None:
            raise UnknownTransaction(f"no transaction {key} in the journal")
        return entry

    # --- reverts ------------------------------------------------------------------

    def _revert_error(
        self, error: RpcError, *, action: str, block_number: int | None = None
    ) -> ContractReverted | RpcError:
        data = revert_data_of(error)
        if data is None:
            return error
        if block_number is None:
            try:
                block_number = int(self.chain.request("eth_blockNumber"), 16)
            except (RpcError, RpcUnreachable):
                block_number = None
        return self.revert_decoder.decode(data, block_number=block_number, action=action)

    def _replay_revert(self, entry: JournalEntry, block_number: int) -> ContractReverted:
        """Why a mined transaction reverted: replay it as a call on the state before it."""
        call: dict[str, Any] = {"from": entry.account, "data": "0x" + entry.data.hex()}
        if entry.to is not None:
            call["to"] = entry.to
        if entry.value:
            call["value"] = hex(entry.value)
        try:
            self.chain.request("eth_call", [call, hex(max(block_number - 1, 0))])
        except RpcError as exc:
            error = self._revert_error(exc, action=entry.key, block_number=block_number)
            if isinstance(error, ContractReverted):
                return error
        return self.revert_decoder.decode(b"", block_number=block_number, action=entry.key)

    # --- recovery -----------------------------------------------------------------

    def _starting_nonce(self, account: str) -> int:
        pending = int(self.chain.request("eth_getTransactionCount", [account, "pending"]), 16)
        journalled = self.journal.next_nonce(self.chain_id, account)
        # a journalled, never-sent transaction keeps its nonce: it is re-sent, not replaced
        for entry in self.journal.unfinished(self.chain_id, account):
            if entry.status is TxStatus.SIGNED:
                self._unsent.setdefault(account, set()).add(entry.key)
        return max(pending, journalled)

    def reconcile(self) -> list[JournalEntry]:
        """Bring the journal and the chain into agreement after a restart.

        Each unfinished transaction is found on chain, or re-sent with its journalled
        signed bytes, or (if its nonce was spent by a stranger) marked as a conflict.
        Returns the transactions still to be confirmed with :meth:`wait`.
        """
        self._sequences.forget_all()
        pending: list[JournalEntry] = []
        entries = self.journal.unfinished(self.chain_id)
        for account in sorted({e.account for e in entries}):
            if account not in self._signers:
                continue
            sequence = self._sequences.of(account)
            with sequence.lock:
                mined_count = int(
                    self.chain.request("eth_getTransactionCount", [account, "latest"]), 16
                )
                for entry in (e for e in entries if e.account == account):
                    if self._receipt_of(entry) is not None:
                        self.journal.set_status(entry.key, TxStatus.SENT)
                    elif entry.nonce < mined_count:
                        self.journal.set_status(entry.key, TxStatus.CONFLICT)
                        continue
                    else:
                        self._rebroadcast(entry)
                    self._unsent.get(account, set()).discard(entry.key)
                    pending.append(self._entry(entry.key))
        return pending

    def replay_lost(self) -> ReplayReport:
        """Re-send what a chain that lost blocks no longer holds (a restart on an older
        state, a reset): every journalled transaction of a local account at or above the
        chain's nonce, without a receipt, with its journalled signed bytes, in nonce
        order. The same bytes land as the same transaction (same nonce, same hash), so
        nothing is sent twice; a replay the chain refuses stops that account's replays
        (a later nonce would wait behind the gap) and is reported, not raised.

        Cheap when nothing was lost: one ``eth_getTransactionCount`` per account.
        """
        replayed: list[str] = []
        refused: dict[str, str] = {}
        for account, sequence in ((a, self._sequences.of(a)) for a in self._signers):
            with sequence.lock, self.journal.exclusive():
                known = int(self.chain.request("eth_getTransactionCount", [account, "pending"]), 16)
                if known >= self.journal.next_nonce(self.chain_id, account):
                    continue
                mined = int(self.chain.request("eth_getTransactionCount", [account, "latest"]), 16)
                for entry in self.journal.from_nonce(self.chain_id, account, mined):
                    if self._receipt_of(entry) is not None:
                        continue
                    try:
                        self._rebroadcast(entry)
                    except TransactionRejected as exc:
                        refused[entry.key] = str(exc)
                        break
                    self._unsent.get(account, set()).discard(entry.key)
                    replayed.append(entry.key)
        return ReplayReport(tuple(replayed), refused)

    def confirmed(self, key: str) -> ConfirmedTransaction | None:
        """``key``'s transaction if it is mined and confirmed now; None if not (yet)."""
        try:
            return self.wait(key, timeout=0)
        except TransactionNotConfirmed:
            return None

    def resume(self) -> list[ConfirmedTransaction]:
        """:meth:`reconcile`, then wait for every transaction it left pending."""
        return [self.wait(entry.key) for entry in self.reconcile()]


def submit_all(
    manager: TransactionManager, account: str, requests: Sequence[TxRequest]
) -> list[ConfirmedTransaction]:
    """Submit ``requests`` in order, then wait for them all (pipelined, not one by one)."""
    for request in requests:
        manager.submit(account, request)
    return [manager.wait(request.key) for request in requests]
