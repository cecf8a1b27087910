"""Re-check an audit report against the chain alone: plain JSON-RPC, not the node.

:func:`check_report` trusts nothing the node says. Through ``eth_chainId``,
``eth_getBlockByNumber``, ``eth_getCode``, ``eth_call``, ``eth_getTransactionReceipt`` and
``eth_getLogs`` on any Ethereum client it checks that:

- the endpoint serves the report's chain (chain id, the hashes of the genesis block and
  of the registries' deployment block), the DocumentRegistry has code there and is bound
  to the stated ConsortiumRegistry;
- each **line** (one event) is a log of that transaction, in that block (number and hash),
  at that log index, of the DocumentRegistry, with that event name and those arguments,
  and the block has that time; a ``BatchAnchored`` line's route (issuer, member,
  country, type, addressees) is read from the route's ``RouteRegistered`` log;
- each **document**'s Merkle proof leads from its target hash to its batch root, that
  root was anchored by the stated issuer, and the chain holds no event of the document
  (up to the report's ``asOfBlock``) that the report leaves out.

The answer names each line that does not hold (``line 7 (DocumentUsed ...): ...``), each
document that does not (``document 0x...: ...``) or the chain (``chain: ...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from certificates import verify_proof
from certificates.errors import DocexError
from certificates.hashes import HASH_RE
from ledger.contracts import DOCUMENT_REGISTRY, load_artifacts
from ledger.registry_logs import RegistryLog, RegistryLogDecoder, anchor_arguments, find_log
from ledger.rpc import JsonRpcClient, RetryPolicy
from node.audit.errors import UnreadableAuditReport
from node.audit.report_format import REPORT_FORMAT

_ADDRESS: Final = re.compile(r"^0x[0-9a-f]{40}$")
#: Besu caps ``eth_getLogs`` at 1,000 blocks; a filter names at most this many documents
_LOG_PAGE_BLOCKS: Final = 1000
_TARGETS_PER_FILTER: Final = 100
_RPC_BATCH: Final = 100


@dataclass(frozen=True, slots=True)
class ReportCheck:
    """The outcome: ``holds`` when every line and document holds; ``failures`` name the
    ones that do not, one sentence each."""

    holds: bool
    failures: list[str]
    lines_checked: int = 0
    documents_checked: int = 0
    failed_lines: list[int] = field(default_factory=list)


def _require(condition: bool, message: str, path: str) -> None:
    if not condition:
        raise UnreadableAuditReport(message, path=path)


def _text(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class _Chain:
    chain_id: int
    genesis_hash: str
    deployed_block_hash: str
    registry: str
    consortium: str
    deployed_block: int
    as_of_block: int


def _chain_of(report: Mapping[str, Any]) -> _Chain:
    _require(
        report.get("format") == REPORT_FORMAT,
        f"not a {REPORT_FORMAT} report (its format is {report.get('format')!r})",
        "/format",
    )
    chain = report.get("chain")
    _require(isinstance(chain, Mapping), "the report names no chain", "/chain")
    assert isinstance(chain, Mapping)
    for name in ("chainId", "deployedBlock", "asOfBlock"):
        value = chain.get(name)
        _require(
            isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            f"chain.{name} is not a block number or chain id",
            f"/chain/{name}",
        )
    for name in ("genesisHash", "deployedBlockHash"):
        _require(
            bool(HASH_RE.fullmatch(_text(chain.get(name)))),
            f"chain.{name} is not a block hash",
            f"/chain/{name}",
        )
    for name in ("documentRegistry", "consortiumRegistry"):
        _require(
            bool(_ADDRESS.fullmatch(_text(chain.get(name)))),
            f"chain.{name} is not an address",
            f"/chain/{name}",
        )
    _require(isinstance(report.get("documents"), list), "no documents list", "/documents")
    _require(isinstance(report.get("events"), list), "no events list", "/events")
    return _Chain(
        chain_id=chain["chainId"],
        genesis_hash=_text(chain["genesisHash"]),
        deployed_block_hash=_text(chain["deployedBlockHash"]),
        registry=_text(chain["documentRegistry"]),
        consortium=_text(chain["consortiumRegistry"]),
        deployed_block=chain["deployedBlock"],
        as_of_block=chain["asOfBlock"],
    )


def _describe(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


class _ChainReader:
    """The RPC answers a check needs, each asked once."""

    def __init__(self, rpc: JsonRpcClient, decoder: RegistryLogDecoder, chain: _Chain) -> None:
        self.rpc = rpc
        self.decoder = decoder
        self.chain = chain
        self.receipts: dict[str, Any] = {}
        self.blocks: dict[int, Any] = {}
        self.routes: dict[int, RegistryLog | None] = {}

    def prefetch(self, tx_hashes: Iterable[str], block_numbers: Iterable[int]) -> None:
        wanted_tx = sorted(set(tx_hashes) - set(self.receipts))
        for start in range(0, len(wanted_tx), _RPC_BATCH):
            chunk = wanted_tx[start : start + _RPC_BATCH]
            answers = self.rpc.batch([("eth_getTransactionReceipt", [tx]) for tx in chunk])
            self.receipts.update(zip(chunk, answers, strict=True))
        wanted_blocks = sorted(set(block_numbers) - set(self.blocks))
        for start in range(0, len(wanted_blocks), _RPC_BATCH):
            numbers = wanted_blocks[start : start + _RPC_BATCH]
            answers = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            self.blocks.update(zip(numbers, answers, strict=True))

    def receipt(self, tx_hash: str) -> Any:
        if tx_hash not in self.receipts:
            self.receipts[tx_hash] = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
        return self.receipts[tx_hash]

    def block(self, number: int) -> Any:
        if number not in self.blocks:
            self.blocks[number] = self.rpc.request("eth_getBlockByNumber", [hex(number), False])
        return self.blocks[number]

    def route(self, route_id: int, before_block: int) -> RegistryLog | None:
        """The ``RouteRegistered`` log of a route (registered at or before the block)."""
        if route_id not in self.routes:
            found: RegistryLog | None = None
            for start, end in _pages(self.chain.deployed_block, before_block):
                logs = self.rpc.request(
                    "eth_getLogs", [self.decoder.route_filter(route_id, start, end)]
                )
                decoded = [self.decoder.decode(log) for log in logs or ()]
                found = next((d for d in decoded if d and d.name == "RouteRegistered"), None)
                if found is not None:
                    break
            self.routes[route_id] = found
        return self.routes[route_id]


def _pages(first: int, last: int) -> Iterable[tuple[int, int]]:
    start = first
    while start <= last:
        end = min(start + _LOG_PAGE_BLOCKS - 1, last)
        yield start, end
        start = end + 1


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _normal(value: Any) -> Any:
    """Hex text compares case-insensitively; every other value as it is."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def _differences(reported: Any, on_chain: Mapping[str, Any]) -> list[str]:
    if not isinstance(reported, Mapping):
        return ["its arguments are not an object"]
    problems = []
    for name in sorted(set(reported) | set(on_chain)):
        if name not in on_chain:
            problems.append(f"argument {name} is not in the event on chain")
        elif name not in reported:
            problems.append(f"argument {name} ({_describe(on_chain[name])}) is missing")
        elif _normal(reported[name]) != _normal(on_chain[name]):
            problems.append(
                f"argument {name} is {_describe(reported[name])} in the report, "
                f"{_describe(on_chain[name])} on chain"
            )
    return problems


class _Checker:
    def __init__(self, reader: _ChainReader, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self.reader = reader
        self.documents = documents

    def line(self, line: Mapping[str, Any]) -> list[str]:
        """What does not hold about one line (empty: it holds)."""
        block_number, log_index = _int(line.get("blockNumber")), _int(line.get("logIndex"))
        block_time = _int(line.get("blockTime"))
        tx_hash, block_hash = _text(line.get("txHash")), _text(line.get("blockHash"))
        event = line.get("event")
        if block_number is None or log_index is None or block_time is None:
            return ["its blockNumber, logIndex and blockTime must be integers"]
        if not HASH_RE.fullmatch(tx_hash) or not HASH_RE.fullmatch(block_hash):
            return ["its txHash and blockHash must be 0x + 64 hex digits"]
        document = self.documents.get(_text(line.get("targetHash")))
        if document is None:
            return ["its targetHash names no document of the report"]
        problems = [f"{column} differs from its document's" for column in line.get("mismatch", ())]
        receipt = self.reader.receipt(tx_hash)
        if not isinstance(receipt, Mapping):
            return [*problems, f"transaction {tx_hash} is not on this chain"]
        if int(str(receipt.get("blockNumber")), 16) != block_number:
            problems.append(
                f"transaction {tx_hash} is in block {int(str(receipt.get('blockNumber')), 16)}, "
                f"not {block_number}"
            )
        elif _text(receipt.get("blockHash")) != block_hash:
            problems.append(f"block {block_number}'s hash is {_text(receipt.get('blockHash'))}")
        if receipt.get("status") not in ("0x1", 1):
            problems.append(f"transaction {tx_hash} failed (status {receipt.get('status')})")
        raw, log = find_log(self.reader.decoder, receipt.get("logs") or (), log_index)
        if raw is None:
            return [*problems, f"transaction {tx_hash} has no log {log_index}"]
        if log is None:
            return [
                *problems,
                f"log {log_index} is not a DocumentRegistry event of {self.reader.decoder.address}",
            ]
        if log.name != event:
            return [*problems, f"log {log_index} is {log.name}, not {event}"]
        arguments = log.arguments
        if log.name == "BatchAnchored":
            route_id = int(log.arguments["routeAndCount"]) >> 32
            route = self.reader.route(route_id, log.block_number)
            if route is None:
                return [*problems, f"route {route_id} of this anchor has no RouteRegistered log"]
            arguments = anchor_arguments(log, route)
            problems += self._anchors_document(arguments, document)
        else:
            if arguments.get("targetHash") != _text(document.get("targetHash")):
                problems.append(f"the event is of document {arguments.get('targetHash')}")
            if arguments.get("root") != _text(document.get("batchRoot")):
                problems.append(f"the event names batch root {arguments.get('root')}")
        problems += _differences(line.get("arguments"), arguments)
        block = self.reader.block(log.block_number)
        if isinstance(block, Mapping) and int(str(block.get("timestamp")), 16) != block_time:
            problems.append(
                f"block {log.block_number}'s time is {int(str(block.get('timestamp')), 16)} on "
                f"chain, {block_time} in the report"
            )
        return problems

    @staticmethod
    def _anchors_document(arguments: Mapping[str, Any], document: Mapping[str, Any]) -> list[str]:
        problems = []
        if arguments["root"] != _text(document.get("batchRoot")):
            problems.append(
                f"it anchors root {arguments['root']}, not the document's batch root "
                f"{_text(document.get('batchRoot'))}"
            )
        if arguments["issuer"] != _text(document.get("issuer")):
            problems.append(
                f"the batch was anchored by {arguments['issuer']}, not by the stated issuer "
                f"{_text(document.get('issuer'))}"
            )
        for name in ("issuerCountry", "issuerMember", "documentType"):
            if name in document and document[name] != arguments[name]:
                problems.append(
                    f"the anchoring issuer's {name} is {arguments[name]}, the report says "
                    f"{document[name]}"
                )
        return problems


def _document_failures(
    target: str, document: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> list[str]:
    problems = []
    try:
        root = bytes.fromhex(_text(document.get("batchRoot"))[2:])
        proof = [bytes.fromhex(_text(sibling)[2:]) for sibling in document.get("proof") or ()]
        holds = len(root) == 32 and verify_proof(bytes.fromhex(target[2:]), proof, root)
    except (ValueError, TypeError, DocexError):  # a malformed proof does not hold
        holds = False
    if not holds:
        problems.append("its Merkle proof does not lead from the target hash to the batch root")
    if not any(line.get("event") == "BatchAnchored" for line in lines):
        problems.append("no line anchors its batch root (BatchAnchored)")
    return problems


def _omissions(
    reader: _ChainReader,
    documents: Mapping[str, Mapping[str, Any]],
    lines_of: Mapping[str, Sequence[Mapping[str, Any]]],
) -> list[str]:
    """The document events the chain holds up to ``asOfBlock`` that no line lists."""
    failures: list[str] = []
    targets = sorted(documents)
    listed = {
        target: {
            key
            for line in lines_of.get(target, ())
            for key in (
                ("block", line.get("blockNumber"), line.get("logIndex")),
                ("tx", _text(line.get("txHash")), line.get("logIndex")),
            )
        }
        for target in targets
    }
    chain = reader.chain
    for start in range(0, len(targets), _TARGETS_PER_FILTER):
        chunk = targets[start : start + _TARGETS_PER_FILTER]
        for first, last in _pages(chain.deployed_block, chain.as_of_block):
            logs = reader.rpc.request(
                "eth_getLogs", [reader.decoder.document_events_filter(chunk, first, last)]
            )
            for raw in logs or ():
                log = reader.decoder.decode(raw)
                if log is None:
                    continue
                target = str(log.arguments.get("targetHash"))
                member = documents.get(target, {}).get("issuerMember")
                if member is not None and log.arguments.get("issuerMember") != member:
                    continue  # another member's document with the same hash
                keys = listed.get(target, set())
                if ("block", log.block_number, log.log_index) in keys or (
                    ("tx", log.tx_hash, log.log_index) in keys
                ):
                    continue
                failures.append(
                    f"document {target}: the chain has {log.name} at block {log.block_number} "
                    f"(log {log.log_index}, tx {log.tx_hash}) that the report does not list"
                )
    return failures


def _chain_failures(rpc: JsonRpcClient, chain: _Chain, registry: str | None) -> list[str]:
    served = int(str(rpc.request("eth_chainId")), 16)
    if served != chain.chain_id:
        return [
            f"chain: the report is of chain id {chain.chain_id}; {rpc.url} serves chain id "
            f"{served}: nothing in it can hold there"
        ]
    # the genesis and the registries' deployment block name the chain's history: two
    # development chains share chain id 31337, and even a genesis block when they
    # started in the same second
    for number, wanted in (
        (0, chain.genesis_hash),
        (chain.deployed_block, chain.deployed_block_hash),
    ):
        block = rpc.request("eth_getBlockByNumber", [hex(number), False])
        found = _text(block.get("hash")) if isinstance(block, Mapping) else "no such block"
        if found != wanted:
            return [
                f"chain: {rpc.url} serves another chain with the same id {served}: its block "
                f"{number} is {found}, the report's chain has {wanted}; nothing in the report "
                "can hold there"
            ]
    if registry is not None and registry.lower() != chain.registry:
        return [
            f"chain: the report names DocumentRegistry {chain.registry}, not the consortium's "
            f"{registry.lower()}"
        ]
    code = rpc.request("eth_getCode", [chain.registry, "latest"])
    if not isinstance(code, str) or code in ("0x", "0x0", ""):
        return [f"chain: no contract at the report's DocumentRegistry {chain.registry}"]
    head = int(str(rpc.request("eth_blockNumber")), 16)
    if chain.as_of_block > head:
        return [f"chain: the report is as of block {chain.as_of_block}, the chain's head is {head}"]
    artifact = load_artifacts()[DOCUMENT_REGISTRY]
    call = artifact.abi.function("consortium")
    answer = rpc.request(
        "eth_call", [{"to": chain.registry, "data": "0x" + call.encode([]).hex()}, "latest"]
    )
    (bound,) = call.decode_output(bytes.fromhex(str(answer)[2:]))
    if str(bound).lower() != chain.consortium:
        return [
            f"chain: DocumentRegistry {chain.registry} is bound to ConsortiumRegistry "
            f"{str(bound).lower()}, not the report's {chain.consortium}"
        ]
    return []


def check_report(
    report: Mapping[str, Any],
    rpc_url: str,
    *,
    registry: str | None = None,
    rpc: JsonRpcClient | None = None,
) -> ReportCheck:
    """Re-check every line of a ``docex-audit/1`` report against the chain at ``rpc_url``.

    ``registry`` (optional) is the DocumentRegistry address the auditor knows from the
    consortium (``chain.json``): a report naming another registry does not hold.
    :class:`UnreadableAuditReport` when ``report`` is not a report at all; an unreachable
    endpoint raises the ledger's :class:`~ledger.errors.RpcUnreachable`.
    """
    chain = _chain_of(report)
    client = rpc or JsonRpcClient(rpc_url, retry=RetryPolicy(attempts=3))
    try:
        failures = _chain_failures(client, chain, registry)
        if failures:
            return ReportCheck(False, failures)
        decoder = RegistryLogDecoder(load_artifacts()[DOCUMENT_REGISTRY].abi, chain.registry)
        reader = _ChainReader(client, decoder, chain)
        documents: dict[str, Mapping[str, Any]] = {}
        for position, document in enumerate(report["documents"]):
            target = _text(document.get("targetHash")) if isinstance(document, Mapping) else ""
            _require(
                bool(HASH_RE.fullmatch(target)),
                "a document without a target hash",
                f"/documents/{position}/targetHash",
            )
            documents[target] = document
        lines = [line for line in report["events"] if isinstance(line, Mapping)]
        _require(len(lines) == len(report["events"]), "an event that is not an object", "/events")
        lines_of: dict[str, list[Mapping[str, Any]]] = {}
        for line in lines:
            lines_of.setdefault(_text(line.get("targetHash")), []).append(line)
        reader.prefetch(
            (
                _text(line.get("txHash"))
                for line in lines
                if HASH_RE.fullmatch(_text(line.get("txHash")))
            ),
            (n for n in (_int(line.get("blockNumber")) for line in lines) if n is not None),
        )
        checker = _Checker(reader, documents)
        failed_lines: list[int] = []
        for position, line in enumerate(lines):
            problems = checker.line(line)
            if problems:
                number = _int(line.get("line")) or position + 1
                failed_lines.append(number)
                failures.append(
                    f"line {number} ({line.get('event')} of {_text(line.get('targetHash'))[:10]}…, "
                    f"block {line.get('blockNumber')}, log {line.get('logIndex')}): "
                    + "; ".join(problems)
                )
        for target, document in documents.items():
            failures += [
                f"document {target}: {problem}"
                for problem in _document_failures(target, document, lines_of.get(target, ()))
            ]
        failures += _omissions(reader, documents, lines_of)
    finally:
        if rpc is None:
            client.close()
    return ReportCheck(
        holds=not failures,
        failures=failures,
        lines_checked=len(lines),
        documents_checked=len(documents),
        failed_lines=failed_lines,
    )
