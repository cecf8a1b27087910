"""Turn revert data into typed errors that name the broken rule in words.

A contract reverts with a custom error (``NotAuthorised(account, documentType, country)``);
the node hands back its ABI-encoded bytes. :class:`RevertDecoder` finds the error in
the contracts' ABIs, decodes its arguments and renders the rule's sentence, for example
"issuer not authorised for coo/1 in VN at block 123".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.abi_codec import ERROR_STRING, PANIC, ContractAbi, ErrorCodec
from ledger.errors import ContractReverted, RpcError

PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop from an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}

_HEX = re.compile(r"0x[0-9a-fA-F]*")


@dataclass(frozen=True, slots=True)
class RevertRule:
    """How one custom error reads to a person, and which error class it raises.

    ``template`` is a :py:meth:`str.format` string over the error's argument names plus
    ``block`` (the block the chain judged at).
    """

    template: str
    error: type[ContractReverted] = ContractReverted


def render_value(value: Any, names: Mapping[bytes, str] | None = None) -> str:
    """An argument as a person reads it: known ids by name, ASCII codes as text, else hex."""
    if isinstance(value, bytes):
        if names and value in names:
            return names[value]
        text = value.rstrip(b"\x00")
        if text and all(0x20 < b < 0x7F for b in text):
            return text.decode("ascii")
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(v, names) for v in value) + "]"
    return str(value)


def revert_data_of(error: RpcError) -> bytes | None:
    """The revert bytes inside a node's error answer, whatever its dialect.

    anvil, Geth and Besu put a hex string in ``data``; ganache may nest it in an object;
    some nodes only quote it in the message.
    """
    candidates: list[Any] = [error.data]
    if isinstance(error.data, dict):
        candidates = [error.data.get("data"), error.data.get("result"), *error.data.values()]
    for candidate in candidates:
        if isinstance(candidate, str) and _HEX.fullmatch(candidate):
            return bytes.fromhex(candidate[2:])
    if error.rpc_code == 3 or "revert" in error.rpc_message.lower():
        found = _HEX.findall(error.rpc_message)
        if found and len(found[-1]) >= 10:
            return bytes.fromhex(found[-1][2:])
        return b""
    return None


class RevertDecoder:
    """Decodes revert data against a set of ABIs and a table of rule sentences."""

    def __init__(
        self,
        abis: Iterable[ContractAbi] = (),
        rules: Mapping[str, RevertRule] | None = None,
        *,
        names: Mapping[bytes, str] | None = None,
    ) -> None:
        """``names`` spells hashed ids (``keccak256("coo/1")``) back as their text."""
        self._names = dict(names or {})
        self._errors: dict[bytes, ErrorCodec] = {}
        for abi in abis:
            self._errors.update(abi.errors)
        self._rules = dict(rules or {})

    @property
    def errors(self) -> dict[str, ErrorCodec]:
        """The custom errors this decoder knows, by name."""
        return {codec.name: codec for codec in self._errors.values()}

    def decode(
        self, data: bytes, *, block_number: int | None = None, action: str = ""
    ) -> ContractReverted:
        """The typed error for ``data`` (never raises; unknown data gives a generic error).

        ``action`` (the journal key of the transaction) is kept on the error, not in its
        message: the message is what a caller of the node's API reads."""
        error = self._decode(data, block_number)
        error.action = action
        return error

    def _decode(self, data: bytes, block_number: int | None) -> ContractReverted:
        block = "latest" if block_number is None else str(block_number)
        selector = data[:4]
        if not data:
            return ContractReverted(
                f"reverted without a reason at block {block}",
                rule="reverted",
                block_number=block_number,
            )
        if selector == ERROR_STRING.selector:
            reason = _safe_decode(ERROR_STRING, data).get("reason", "")
            return ContractReverted(
                f"{reason} at block {block}",
                rule="require",
                arguments={"reason": reason},
                block_number=block_number,
                revert_data=data,
            )
        if selector == PANIC.selector:
            code = int(_safe_decode(PANIC, data).get("code", 0))
            return ContractReverted(
                f"contract panicked: {PANIC_REASONS.get(code, hex(code))} at block {block}",
                rule="panic",
                arguments={"code": code},
                block_number=block_number,
                revert_data=data,
            )
        codec = self._errors.get(selector)
        if codec is None:
            return ContractReverted(
                f"reverted with unknown error 0x{data.hex()} at block {block}",
                rule="unknown",
                block_number=block_number,
                revert_data=data,
            )
        arguments = _safe_decode(codec, data)
        rendered = {name: render_value(value, self._names) for name, value in arguments.items()}
        rule = self._rules.get(codec.name)
        if rule is None:
            listed = ", ".join(f"{k}={v}" for k, v in rendered.items())
            return ContractReverted(
                f"{codec.name}({listed}) at block {block}",
                rule=codec.name,
                arguments=arguments,
                block_number=block_number,
                revert_data=data,
            )
        try:
            sentence = rule.template.format(block=block, **rendered)
        except (KeyError, IndexError):
            sentence = f"{codec.name} at block {block}"
        return rule.error(
            sentence,
            rule=codec.name,
            arguments=arguments,
            block_number=block_number,
            revert_data=data,
        )


def _safe_decode(codec: ErrorCodec, data: bytes) -> dict[str, Any]:
    try:
        return codec.decode(data)
    except Exception:  # malformed revert data from a hostile contract
        return {}
