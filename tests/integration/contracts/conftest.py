"""Real EVMs (in-process eth-tester, an anvil process) and a fresh consortium per test.

Every transaction is signed locally with eth-account keys and sent raw. After each mined
state change one empty block is mined: governance changes take effect from the next block,
and the extra block makes `eth_call` (used to read the custom error of a refused call) see
the same rules a transaction would on every backend.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from certificates.keccak import keccak256

REPO = Path(__file__).resolve().parents[3]
BUILD = REPO / "contracts" / "build"
ANVIL = REPO / "node_modules" / ".bin" / "anvil"

COO = "coo/1"
PERMIT = "permit/1"
MEMBER_ACCOUNT = b"\0" * 32
GAS = 8_000_000
#: The quorum rule of the test consortia: more than half, proposals open for 50 blocks.
QUORUM_RULE = (1, 2, 50)
GAS_PRICE = 5 * 10**9


def type_id(document_type: str) -> bytes:
    """The on-chain id of a versioned document type: keccak256 of its UTF-8 name."""
    return keccak256(document_type.encode())


def country(code: str) -> bytes:
    return code.encode("ascii")


def artifact(name: str) -> dict[str, Any]:
    return json.loads((BUILD / f"{name}.json").read_text())  # type: ignore[no-any-return]


def new_account(label: str) -> LocalAccount:
    """A fresh random key: deployments never share accounts."""
    return Account.create(label)


class Reverted(AssertionError):
    """A transaction expected to succeed was refused; carries the decoded custom error."""


@dataclass
class Chain:
    """One EVM: signs, sends and decodes custom errors for the contracts under test."""

    w3: Web3
    name: str
    _errors: dict[bytes, tuple[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for contract_name in ("ConsortiumRegistry", "DocumentRegistry"):
            for item in artifact(contract_name)["abi"]:
                if item["type"] == "error":
                    selector = function_abi_to_4byte_selector(item)
                    self._errors[selector] = (item["name"], [i["type"] for i in item["inputs"]])

    @property
    def chain_id(self) -> int:
        return self.w3.eth.chain_id

    def fund(self, *accounts: LocalAccount) -> None:
        funder = self.w3.eth.accounts[0]
        for account in accounts:
            tx = self.w3.eth.send_transaction(
                {"from": funder, "to": account.address, "value": 10**19}
            )
            self.w3.eth.wait_for_transaction_receipt(tx)

    def mine(self) -> None:
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def snapshot(self) -> str:
        """Snapshot the whole state (anvil and eth-tester both answer `evm_snapshot`)."""
        snapshot_id: str = self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        return snapshot_id

    def revert(self, snapshot_id: str) -> None:
        """Back to `snapshot_id`: state, balances, nonces and block number. anvil forgets
        the snapshot once reverted to (and every later one): take a new one to come back."""
        answer = self.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]
        # anvil answers true; eth-tester answers null (and raises on an unknown id)
        assert "error" not in answer, f"evm_revert({snapshot_id}) failed: {answer}"
        assert answer.get("result") in (True, None), f"evm_revert({snapshot_id}): {answer}"

    def block_number(self) -> int:
        return self.w3.eth.block_number

    def deploy(self, sender: LocalAccount, name: str, *args: Any) -> Contract:
        art = artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self._send(sender, factory.constructor(*args))
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])

    def transact(self, sender: LocalAccount, call: Any) -> Any:
        """Send `call` signed by `sender`; fail with the decoded error if it is refused."""
        error = self.error_of(sender, call)
        if error is not None:
            raise Reverted(f"{call.fn_name} by {sender.address} refused: {error}")
        receipt = self._send(sender, call)
        self.mine()
        return receipt

    def error_of(self, sender: LocalAccount, call: Any) -> tuple[Any, ...] | None:
        """The custom error `call` reverts with for `sender` (name, *args), or None."""
        try:
            call.call({"from": sender.address})
        except ContractCustomError as exc:
            return self.decode_error(exc.data)
        except ContractLogicError as exc:
            if exc.data:
                return self.decode_error(exc.data)
            raise
        except TransactionFailed as exc:  # eth-tester: the revert data in the message
            return self.decode_error(_revert_bytes(exc))
        return None

    def refused(self, sender: LocalAccount, call: Any) -> tuple[Any, ...]:
        """Assert that `call` is refused both as a call and as a mined transaction."""
        error = self.error_of(sender, call)
        assert error is not None, f"{call.fn_name} by {sender.address} was accepted"
        try:
            receipt = self._send(sender, call, check=False)
        except TransactionFailed:  # eth-tester refuses a reverting transaction outright
            return error
        assert receipt["status"] == 0, "the mined transaction succeeded"
        self.mine()
        return error

    def decode_error(self, data: Any) -> tuple[Any, ...]:
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        name, types = self._errors[raw[:4]]
        values = abi_decode(types, raw[4:])
        return (
            name,
            *(
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, values, strict=True)
            ),
        )

    def _send(self, sender: LocalAccount, call: Any, *, check: bool = True) -> Any:
        tx = call.build_transaction(
            {
                "from": sender.address,
                "nonce": self.w3.eth.get_transaction_count(sender.address, "pending"),
                "gas": GAS,
                "gasPrice": GAS_PRICE,
                "chainId": self.chain_id,
            }
        )
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if check:
            assert receipt["status"] == 1, f"{tx_hash.hex()} reverted"
        return receipt


def events(event: Any, receipt: Any) -> list[Any]:
    """The decoded logs of one event type in a receipt (other logs ignored)."""
    return list(event().process_receipt(receipt, errors=DISCARD))


def _revert_bytes(exc: Exception) -> bytes:
    message = exc.args[0]
    if isinstance(message, bytes):
        return message
    text = str(message).removeprefix("execution reverted: ")
    value = ast.literal_eval(text)
    assert isinstance(value, bytes), f"no revert data in {message!r}"
    return value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def eth_tester_chain() -> Chain:
    from web3 import EthereumTesterProvider

    return Chain(Web3(EthereumTesterProvider()), "eth-tester")


@pytest.fixture(scope="session")
def anvil_chain() -> Iterator[Chain]:
    # `make test` installs anvil (npm); its absence is a broken setup, not a reason to skip
    assert ANVIL.exists(), f"anvil is not installed at {ANVIL}: run `make setup`"
    port = _free_port()
    process = subprocess.Popen(
        [
            str(ANVIL),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--silent",
            "--balance",
            "100000000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 30
        while not w3.is_connected():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("anvil did not start")
            time.sleep(0.05)
        yield Chain(w3, "anvil")
    finally:
        os.kill(process.pid, 15)
        process.wait(timeout=10)


@pytest.fixture(params=["eth-tester", "anvil"])
def chain(request: pytest.FixtureRequest) -> Chain:
    fixture = "eth_tester_chain" if request.param == "eth-tester" else "anvil_chain"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@dataclass
class MemberKeys:
    member_id: int
    code: str
    account: LocalAccount  # member account (governance)
    issuer: LocalAccount  # issuer key for coo/1

    @property
    def country(self) -> bytes:
        return country(self.code)


@dataclass
class Consortium:
    """A deployed ConsortiumRegistry + DocumentRegistry with three members (VN, SG, TH),
    a quorum of more than half (2 of 3), a coo/1 issuer key each, and TH recognising coo/1
    from VN."""

    chain: Chain
    consortium: Contract
    registry: Contract
    members: dict[str, MemberKeys]
    deployer: LocalAccount
    outsider: LocalAccount

    def __getitem__(self, code: str) -> MemberKeys:
        return self.members[code]

    def govern(self, proposal: Any, proposer: str, *approvers: str) -> int:
        """Propose as `proposer`'s member account and approve by `approvers`; the id."""
        receipt = self.chain.transact(self[proposer].account, proposal)
        (created,) = events(self.consortium.events.ProposalCreated, receipt)
        proposal_id = int(created["args"]["proposalId"])
        for code in approvers:
            self.chain.transact(self[code].account, self.consortium.functions.approve(proposal_id))
        return proposal_id

    def anchor(
        self,
        issuer: LocalAccount,
        root: bytes,
        document_type: str = COO,
        count: int = 1,
        addressees: tuple[str, ...] = ("TH",),
    ) -> Any:
        """Anchor with the full description (registers the issuer key's route if new)."""
        return self.chain.transact(
            issuer,
            self.registry.functions.anchorWithRoute(
                root, document_type, count, [country(c) for c in addressees]
            ),
        )

    def route(
        self, issuer: LocalAccount, document_type: str = COO, addressees: tuple[str, ...] = ("TH",)
    ) -> int:
        """The id of `issuer`'s route, registered (by anchoring a one-document batch) if new."""
        codes = [country(c) for c in addressees]
        lookup = self.registry.functions.routeOf(issuer.address, type_id(document_type), codes)
        if lookup.call() == 0:
            self.anchor(issuer, os.urandom(32), document_type, 1, addressees)
        return int(lookup.call())


def encryption_key(code: str, n: int = 1) -> bytes:
    """A stand-in X25519 public key (the contract stores 32 bytes, it never uses them)."""
    return keccak256(f"{code}-encryption-{n}".encode())


def deploy_consortium(
    chain: Chain,
    codes: tuple[str, ...] = ("VN", "SG", "TH"),
    rule: tuple[int, int, int] = QUORUM_RULE,
) -> Consortium:
    deployer = new_account("deployer")
    outsider = new_account("outsider")
    members = {
        code: MemberKeys(i + 1, code, new_account(f"{code}-member"), new_account(f"{code}-issuer"))
        for i, code in enumerate(codes)
    }
    chain.fund(deployer, outsider, *(a for m in members.values() for a in (m.account, m.issuer)))
    genesis_members = [
        (m.country, f"{m.code} administration", m.account.address, encryption_key(m.code))
        for m in members.values()
    ]
    genesis_keys = [(m.member_id, m.issuer.address, type_id(COO)) for m in members.values()]
    genesis_agreements = (
        [(country("TH"), country("VN"), type_id(COO), 0, 0)] if "TH" in members else []
    )
    consortium = chain.deploy(
        deployer, "ConsortiumRegistry", genesis_members, genesis_keys, genesis_agreements, rule
    )
    registry = chain.deploy(deployer, "DocumentRegistry", consortium.address)
    chain.mine()
    return Consortium(chain, consortium, registry, members, deployer, outsider)


@dataclass
class _Deployed:
    """The consortium deployed once on a chain, and the snapshot of the chain just after."""

    consortium: Consortium
    block_number: int
    snapshot_id: str


#: per chain (by name) of this test process: what `consortium` hands out
_DEPLOYED: dict[str, _Deployed] = {}


@pytest.fixture
def consortium(chain: Chain) -> Consortium:
    """The three-member consortium as deployed, on a chain reverted to just after its
    deployment: it is deployed once per chain and process (a deployment is most of a
    test's time on eth-tester), and every test starts from the same state, as with a
    fresh deployment (accounts, balances, nonces, block number)."""
    deployed = _DEPLOYED.get(chain.name)
    if deployed is None:
        deployed = _Deployed(deploy_consortium(chain), chain.block_number(), chain.snapshot())
        _DEPLOYED[chain.name] = deployed
        return deployed.consortium
    chain.revert(deployed.snapshot_id)
    deployed.snapshot_id = chain.snapshot()
    assert chain.block_number() == deployed.block_number, "the chain did not go back"
    return deployed.consortium


@pytest.fixture
def consortium_factory() -> Any:
    """`deploy_consortium` itself, for tests that deploy many times (stateful tests)."""
    return deploy_consortium
