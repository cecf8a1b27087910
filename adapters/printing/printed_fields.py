"""Reading a wrapped document's fields for print, whatever was concealed.

A wrapped document's ``data`` lacks its concealed fields (their hashes are listed under
``concealed``), so the forms read fields by JSON Pointer and print ``[concealed]`` for
one that was hidden, and nothing for an optional field that was never there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

CONCEALED: Final = "[concealed]"


@dataclass(frozen=True, slots=True)
class PrintedFields:
    """A document's ``data`` and the JSON Pointers of its concealed fields."""

    data: Mapping[str, Any]
    concealed: frozenset[str]
    #: what a concealed field prints as, in the certificate's language
    concealed_mark: str = CONCEALED

    def value(self, pointer: str) -> Any:
        """The JSON value at ``pointer`` (``/a/0/b``), or None when absent."""
        node: Any = self.data
        for token in pointer.split("/")[1:]:
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def is_concealed(self, pointer: str) -> bool:
        """Whether ``pointer`` or a field below it was concealed."""
        prefix = pointer + "/"
        return any(path == pointer or path.startswith(prefix) for path in self.concealed)

    def text(self, pointer: str, absent: str = "") -> str:
        """The field as printed: its text, ``[concealed]``, or ``absent``."""
        value = self.value(pointer)
        if value is None:
            return self.concealed_mark if self.is_concealed(pointer) else absent
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str | int):
            return str(value)
        return self.concealed_mark if self.is_concealed(pointer) else absent

    def count(self, pointer: str) -> int:
        """The length of the array at ``pointer`` (0 when absent)."""
        value = self.value(pointer)
        return len(value) if isinstance(value, list) else 0

    def party(self, pointer: str) -> str:
        """A party (name, address, identifier, country) as lines of a form box."""
        if self.value(pointer) is None:
            return self.concealed_mark if self.is_concealed(pointer) else ""
        lines = [self.text(f"{pointer}/name")]
        address = self.text(f"{pointer}/address")
        if address:
            lines.append(address)
        identifier = self.text(f"{pointer}/identifier")
        if identifier:
            lines.append(f"ID: {identifier}")
        country = self.text(f"{pointer}/country")
        if country:
            lines.append(f"Country: {country}")
        return "\n".join(lines)

    def authority(self, pointer: str) -> str:
        """An issuing authority or ministry: name and country."""
        name = self.text(f"{pointer}/name")
        country = self.text(f"{pointer}/country")
        return f"{name} ({country})" if name and country else name or country

    def measure(self, pointer: str) -> str:
        """A quantity or weight: ``1000 KGM``."""
        if self.value(pointer) is None:
            return self.concealed_mark if self.is_concealed(pointer) else ""
        return " ".join(
            part for part in (self.text(f"{pointer}/value"), self.text(f"{pointer}/unit")) if part
        )

    def money(self, pointer: str) -> str:
        """A monetary amount: ``USD 435.00``."""
        if self.value(pointer) is None:
            return self.concealed_mark if self.is_concealed(pointer) else ""
        return " ".join(
            part
            for part in (self.text(f"{pointer}/currency"), self.text(f"{pointer}/amount"))
            if part
        )

    def port(self, pointer: str) -> str:
        """A port: ``Cat Lai, Ho Chi Minh City (VNCLI)``."""
        if self.value(pointer) is None:
            return self.concealed_mark if self.is_concealed(pointer) else ""
        name = self.text(f"{pointer}/name")
        code = self.text(f"{pointer}/unLocode")
        return f"{name} ({code})" if code else name

    def lines(self, pointer: str) -> list[str]:
        """An array of text (permit conditions) as printed lines."""
        value = self.value(pointer)
        if not isinstance(value, list):
            return [self.concealed_mark] if self.is_concealed(pointer) else []
        return [self.text(f"{pointer}/{index}") for index in range(len(value))]
