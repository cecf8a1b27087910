"""Facts a document's issuer signed, read from its revealed data (fields may be concealed).

The verdict compares them with what the chain recorded for the document's batch: a
document is green only if its own issuing country and addressees are the anchored ones,
and its status accounts for the validity it carries. A concealed field gives ``None``:
the fact is then not shown, and the checks that need it rely on the signed batch alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Final

from certificates.json_types import JsonValue

#: per type: where the issuing country, the addressees and the end of validity are
_ISSUER_COUNTRY: Final = {
    "coo/1": ("issuingAuthority", "country"),
    "coo/2": ("issuingAuthority", "country"),
    "permit/1": ("issuingMinistry", "country"),
    "declaration/1": ("customsOffice", "country"),
}
_ADDRESSEES: Final = {
    "coo/1": ("importingCountry",),
    "coo/2": ("importingCountry",),
    "permit/1": ("addresseeCountries",),
    "declaration/1": ("addresseeCountries",),
}
_VALID_UNTIL: Final = {"permit/1": ("validity", "validUntil")}
#: types whose addressee is required (absent means concealed or malformed, never "none")
_ADDRESSEE_REQUIRED: Final = frozenset({"coo/1", "coo/2"})


def _hidden(path: tuple[str, ...], concealed: Collection[str]) -> bool:
    """Whether the field at ``path`` (or a part of it, or what holds it) is concealed."""
    pointer = "/" + "/".join(path)
    return any(
        hidden == pointer or hidden.startswith(pointer + "/") or pointer.startswith(hidden + "/")
        for hidden in concealed
    )


def _at(data: Mapping[str, JsonValue], path: tuple[str, ...]) -> JsonValue:
    value: JsonValue = dict(data)
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def signed_issuer_country(
    type_id: str, data: Mapping[str, JsonValue], concealed: Collection[str] = ()
) -> str | None:
    """The issuing country the document states, or None when concealed or unknown."""
    path = _ISSUER_COUNTRY.get(type_id)
    if path is None or _hidden(path, concealed):
        return None
    value = _at(data, path)
    return value if isinstance(value, str) else None


def signed_addressees(
    type_id: str, data: Mapping[str, JsonValue], concealed: Collection[str] = ()
) -> tuple[str, ...] | None:
    """The document's own addressees (sorted), or None when concealed or unknown; a type
    whose addressees are optional and that names none has ``()``."""
    path = _ADDRESSEES.get(type_id)
    if path is None or _hidden(path, concealed):
        return None
    value = _at(data, path)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(code, str) for code in value):
        return tuple(sorted({str(code) for code in value}))
    if value is None and type_id not in _ADDRESSEE_REQUIRED:
        return ()
    return None


def signed_valid_until(
    type_id: str, data: Mapping[str, JsonValue], concealed: Collection[str] = ()
) -> date | None:
    """The last day of the signed validity, or None when none is signed (or concealed)."""
    path = _VALID_UNTIL.get(type_id)
    if path is None or _hidden(path, concealed):
        return None
    value = _at(data, path)
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
