"""Chain backends behind one Protocol: raw JSON-RPC requests to an Ethereum node.

- :class:`JsonRpcChain`: any JSON-RPC endpoint (anvil, ganache, Besu, Geth).
- :class:`ManagedAnvil`: an anvil process the node starts and stops itself, its state
  persisted in the data dir; it hands out a :class:`JsonRpcChain`.
- :class:`EthTesterChain`: py-evm in process, for fast tests; it answers the subset of
  JSON-RPC the ledger uses, in the same wire format as a real node.

Callers never test which backend they hold.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from eth_abi.abi import encode as abi_encode

from ledger.errors import ChainProcessError, RpcError, RpcUnreachable
from ledger.process_records import PidFile, describe_process, listening_pid
from ledger.rpc import JsonRpcClient, RetryPolicy

#: The public development mnemonic of anvil, ganache and hardhat: never for real funds.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


@runtime_checkable
class Chain(Protocol):
    """An Ethereum node spoken to in JSON-RPC wire format (hex quantities, camelCase)."""

    @property
    def chain_id(self) -> int: ...

    def request(self, method: str, params: Sequence[Any] = ()) -> Any: ...

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]: ...

    def close(self) -> None: ...


class JsonRpcChain:
    """Any JSON-RPC endpoint, by URL."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 32,
    ) -> None:
        self.url = url
        self._client = JsonRpcClient(
            url, timeout=timeout, retry=retry, sleep=sleep, max_connections=max_connections
        )
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._client.request("eth_chainId"), 16)
        return self._chain_id

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self._client.request(method, params)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return self._client.batch(calls)

    def close(self) -> None:
        self._client.close()


def dev_private_keys(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> list[bytes]:
    """The first ``count`` keys of ``mnemonic`` (``m/44'/60'/0'/0/i``), as anvil funds them."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [
        bytes(Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key)
        for i in range(count)
    ]


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    return find_free_ports(1, host)[0]


def find_free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different TCP ports free on ``host`` right now. The probes stay bound
    until all are picked: one at a time, the OS may hand the same port out twice (a
    member's Kubo and its node were once given the same one)."""
    probes: list[socket.socket] = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def anvil_binary(node_modules: Path) -> Path:
    """The anvil executable npm ``@foundry-rs/anvil`` installed under ``node_modules``.

    ``.bin/anvil`` is a Node.js wrapper that spawns the platform binary and exits on a
    signal before its child has; the binary itself is started when it can be found, so
    the PID the node stops is anvil's own.
    """
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    system = platform.system().lower()
    native = node_modules / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil"
    return native if native.exists() else node_modules / ".bin" / "anvil"


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as anvil's listener does: connections in TIME_WAIT do not make the port busy
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


class ManagedAnvil:
    """An anvil process started on 127.0.0.1 with its state persisted under ``data_dir``.

    ``anvil --state FILE`` loads the file on start and writes it every
    ``state_interval`` seconds and on a clean stop, so a restarted node finds its chain.
    The running anvil is recorded in ``anvil.pid`` (PID, start time, command line): a
    start after a ``kill -9`` of its owner stops the anvil that owner left running on
    this state file (SIGTERM: it writes its state), and never a process it did not start.
    """

    STATE_FILE = "anvil-state.json"
    LOG_FILE = "anvil.log"
    PID_FILE = "anvil.pid"

    def __init__(
        self,
        executable: Path,
        data_dir: Path,
        *,
        port: int,
        chain_id: int = 31337,
        state_interval: int = 1,
        mnemonic: str = DEV_MNEMONIC,
        block_time: float | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        self.executable = executable
        self.data_dir = data_dir
        self.port = port
        self.chain_id = chain_id
        self.state_interval = state_interval
        self.mnemonic = mnemonic
        self.block_time = block_time
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.data_dir / self.STATE_FILE

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def pid_file(self) -> PidFile:
        return PidFile(self.data_dir / self.PID_FILE)

    def stop_leftover(self) -> int | None:
        """Stop the anvil a previous owner started on this state file and left running
        (its owner was killed); its PID, or None when there was none. A recorded PID now
        held by another process, or an anvil on another state file, is left alone."""
        leftover = self.pid_file.running()
        if leftover is None or str(self.state_file) not in leftover.command:
            return None
        leftover.stop()
        self.pid_file.forget()
        # the recorded PID can be gone (or a zombie) a moment before the kernel has
        # closed its listening socket: the new anvil waits for the port, not the PID
        deadline = time.monotonic() + self.startup_timeout
        while not _port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return leftover.pid

    def command(self) -> list[str]:
        args = [
            str(self.executable),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--mnemonic",
            self.mnemonic,
            "--state",
            str(self.state_file),
            "--state-interval",
            str(self.state_interval),
            "--silent",
        ]
        if self.block_time is not None:
            args += ["--block-time", str(self.block_time)]
        return args + list(self.extra_args)

    def start(self) -> JsonRpcChain:
        """Start anvil, wait until it answers, and return a chain bound to it."""
        if self._process is not None:
            raise ChainProcessError(f"anvil already running as PID {self._process.pid}")
        if not self.executable.exists():
            raise ChainProcessError(f"anvil not found at {self.executable} (run `make setup`)")
        if not _port_is_free(self.port):
            raise ChainProcessError(self._port_taken())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / self.LOG_FILE).open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed executable, no shell
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.record(self._process.pid)
        attempts = max(int(self.startup_timeout / 0.05), 1)
        chain = JsonRpcChain(self.url, retry=RetryPolicy(attempts=attempts, max_delay=0.05))
        try:
            chain.chain_id  # noqa: B018 - waits until the endpoint answers
        except RpcUnreachable as exc:
            self.stop()
            raise ChainProcessError(
                f"anvil did not answer on {self.url}; see {self.data_dir / self.LOG_FILE}"
            ) from exc
        chain.close()
        if self._process.poll() is not None:
            # something else answered on the port: never talk to a chain we did not start
            self._process = None
            raise ChainProcessError(
                f"anvil exited at start (port {self.port} in use?); see "
                f"{self.data_dir / self.LOG_FILE}"
            )
        return JsonRpcChain(self.url)

    @property
    def exited(self) -> bool:
        """True when the anvil this object started has died (killed, crashed)."""
        return self._process is not None and self._process.poll() is not None

    def persisted_block(self) -> int | None:
        """The newest block in anvil's state file (None before anvil first writes it)."""
        try:
            state = json.loads(self.state_file.read_bytes())
            return int(state["best_block_number"])
        except (OSError, ValueError, KeyError, TypeError):  # not written yet, or mid-write
            return None

    def wait_persisted(self, block_number: int, timeout: float = 15.0) -> None:
        """Until anvil's state file holds block ``block_number``: anvil writes it every
        ``state_interval`` seconds, and a ``kill -9`` before that restarts the chain
        without the block. What the journal cannot replay (a first start's deployment of
        the dev consortium) is made durable this way before the node serves."""
        deadline = time.monotonic() + timeout
        while (self.persisted_block() or -1) < block_number:
            if self.exited:
                raise ChainProcessError(f"anvil exited; see {self.data_dir / self.LOG_FILE}")
            if time.monotonic() > deadline:
                raise ChainProcessError(
                    f"anvil did not write block {block_number} to {self.state_file} "
                    f"in {timeout:.0f} s; see {self.data_dir / self.LOG_FILE}"
                )
            time.sleep(0.05)

    def restart_if_exited(self) -> bool:
        """Start anvil again on its persisted state if it died; True if it did.

        ``--state`` reloads what anvil last wrote (every ``state_interval`` seconds), so
        a ``kill -9`` loses at most the blocks of that interval: the transaction manager
        replays them from its journal (:meth:`TransactionManager.replay_lost`).
        """
        if not self.exited:
            return False
        dead, self._process = self._process, None
        try:
            self.start().close()
        except ChainProcessError:
            if self._process is None:
                self._process = dead  # still exited: the next call tries again
            raise
        return True

    def _port_taken(self) -> str:
        holder = listening_pid(self.port)
        who = describe_process(holder) if holder is not None else "a process not visible here"
        return (
            f"127.0.0.1:{self.port} is already in use by {who}, which this node did not "
            f"start ({self.pid_file.describe()}); stop that process, or give the managed "
            "anvil another port (--anvil-port, DOCEX_ANVIL_PORT)"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop anvil by PID: SIGTERM (anvil writes its state), SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            if process is not None:
                self.pid_file.forget()
            return
        # anvil runs in a session of its own (start_new_session): its process group id is
        # its PID, and the group holds any child a wrapper script may have spawned
        group = process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            process.wait()
        deadline = time.monotonic() + timeout
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.01)
        if _group_alive(group):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.pid_file.forget()

    def __enter__(self) -> ManagedAnvil:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


# --- eth-tester --------------------------------------------------------------------

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
_FUNDED_CALLER = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"  # eth-tester's key 1


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _wire(value: Any) -> Any:
    """eth-tester's Python values in JSON-RPC wire format."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {_camel(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def _quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _block_id(tag: Any) -> int | str:
    if isinstance(tag, str) and tag.startswith("0x"):
        return int(tag, 16)
    if tag == "pending":  # eth-tester mines each transaction as it arrives
        return "latest"
    return str(tag)


def _call_params(tx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("from", "to", "data"):
        if tx.get(key) is not None:
            out[key] = tx[key]
    for key in ("value", "gas"):
        if tx.get(key) is not None:
            out[key] = _quantity(tx[key])
    # py-evm charges the caller for gas even in a call: default to a funded account
    out.setdefault("from", _FUNDED_CALLER)
    return out


def _revert_data(error: Exception) -> bytes | None:
    """The revert bytes eth-tester carries in a TransactionFailed, when it has them."""
    message = error.args[0] if error.args else ""
    if isinstance(message, bytes):
        return message
    text = str(message)
    if text.startswith(("b'", 'b"')):
        with contextlib.suppress(ValueError, SyntaxError):
            raw = ast.literal_eval(text)
            if isinstance(raw, bytes):
                return raw
    if text and not text.startswith("0x") and "invalid" not in text.lower():
        # eth-tester decodes Error(string) itself; encode it back as a node would send it
        return _ERROR_STRING_SELECTOR + abi_encode(["string"], [text])
    return None


class EthTesterChain:
    """py-evm in process, answering JSON-RPC as a node would. Thread-safe (one lock)."""

    GAS_TIP = 10**9

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend

        self._tester = EthereumTester(PyEVMBackend())
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[list[Any]], Any]] = {
            "eth_chainId": lambda _: hex(self.chain_id),
            "eth_blockNumber": lambda _: hex(self._tester.get_block_by_number("latest")["number"]),
            "eth_getBlockByNumber": self._get_block_by_number,
            "eth_getBlockByHash": self._get_block_by_hash,
            "eth_getTransactionCount": lambda p: hex(
                self._tester.get_nonce(p[0], _block_id(p[1] if len(p) > 1 else "latest"))
            ),
            "eth_getBalance": lambda p: hex(
                self._tester.get_balance(p[0], _block_id(p[1] if len(p) > 1 else "latest"))
            ),
            "eth_getCode": lambda p: self._tester.get_code(
                p[0], _block_id(p[1] if len(p) > 1 else "latest")
            ),
            "eth_sendRawTransaction": lambda p: self._tester.send_raw_transaction(p[0]),
            "eth_getTransactionReceipt": self._get_receipt,
            "eth_getTransactionByHash": self._get_transaction,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_getLogs": self._get_logs,
            "eth_gasPrice": lambda _: hex(self._base_fee() + self.GAS_TIP),
            "eth_maxPriorityFeePerGas": lambda _: hex(self.GAS_TIP),
            "evm_snapshot": lambda _: hex(self._tester.take_snapshot()),
            "evm_revert": self._revert,
            "evm_mine": lambda _: self._tester.mine_blocks(1) and "0x0",
            "evm_setAutomine": self._set_automine,
        }

    @property
    def chain_id(self) -> int:
        chain_id: int = self._tester.backend.chain.chain_id
        return chain_id

    @staticmethod
    def dev_private_keys() -> list[bytes]:
        """The keys eth-tester funds at genesis (1 .. 10)."""
        return [i.to_bytes(32, "big") for i in range(1, 11)]

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        from eth_tester.exceptions import TransactionFailed, ValidationError
        from eth_utils.exceptions import ValidationError as EvmValidationError

        handler = self._handlers.get(method)
        if handler is None:
            raise RpcError(method, -32601, f"method {method} not supported by eth-tester")
        with self._lock:
            try:
                return handler(list(params))
            except TransactionFailed as exc:
                data = _revert_data(exc)
                raise RpcError(
                    method, 3, "execution reverted", "0x" + data.hex() if data else None
                ) from exc
            except (ValidationError, EvmValidationError) as exc:
                raise RpcError(method, -32000, str(exc)) from exc

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return [self.request(method, params) for method, params in calls]

    def close(self) -> None:
        """Nothing to release: the chain lives as long as this object."""

    def _base_fee(self) -> int:
        fee: int = self._tester.get_block_by_number("latest").get("base_fee_per_gas", 0)
        return fee

    def _get_block_by_number(self, params: list[Any]) -> Any:
        from eth_tester.exceptions import BlockNotFound

        try:
            block = self._tester.get_block_by_number(_block_id(params[0]), bool(params[1]))
        except BlockNotFound:
            return None
        return _wire(block)

    def _get_block_by_hash(self, params: list[Any]) -> Any:
        from eth_tester.exceptions import BlockNotFound

        try:
            return _wire(self._tester.get_block_by_hash(params[0], bool(params[1])))
        except BlockNotFound:
            return None

    def _get_receipt(self, params: list[Any]) -> Any:
        from eth_tester.exceptions import TransactionNotFound

        try:
            receipt = self._tester.get_transaction_receipt(params[0])
        except TransactionNotFound:
            return None
        if receipt.get("block_number") is None:
            return None
        return _wire(receipt)

    def _get_transaction(self, params: list[Any]) -> Any:
        from eth_tester.exceptions import TransactionNotFound

        try:
            return _wire(self._tester.get_transaction_by_hash(params[0]))
        except TransactionNotFound:
            return None

    def _call(self, params: list[Any]) -> Any:
        block = _block_id(params[1] if len(params) > 1 else "latest")
        return self._tester.call(_call_params(params[0]), block)

    def _estimate_gas(self, params: list[Any]) -> Any:
        block = _block_id(params[1] if len(params) > 1 else "latest")
        return hex(self._tester.estimate_gas(_call_params(params[0]), block))

    def _get_logs(self, params: list[Any]) -> Any:
        criteria: dict[str, Any] = params[0]
        logs = self._tester.get_logs(
            from_block=_block_id(criteria.get("fromBlock", "latest")),
            to_block=_block_id(criteria.get("toBlock", "latest")),
            address=criteria.get("address"),
            topics=criteria.get("topics"),
        )
        return [_wire({**log, "removed": False}) for log in logs]

    def _revert(self, params: list[Any]) -> bool:
        self._tester.revert_to_snapshot(_quantity(params[0]))
        return True

    def _set_automine(self, params: list[Any]) -> bool:
        if params[0]:
            self._tester.enable_auto_mine_transactions()
        else:
            self._tester.disable_auto_mine_transactions()
        return True
