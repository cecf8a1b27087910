"""Shell completion of the values client commands take: document types and countries.

Offered by typer's completion (``docex --install-completion``): ``docex issue --type <TAB>``
lists the document types docex knows, ``--to <TAB>`` the member countries of the
development consortium and their usual trade partners (any ISO 3166-1 alpha-2 code is
accepted; these are suggestions).
"""

from __future__ import annotations

from typing import Final

#: ISO 3166-1 alpha-2: ASEAN, then frequent partners; suggestions only
COUNTRIES: Final = (
    "VN", "KR", "SG", "TH", "MY", "ID", "PH", "KH", "LA", "MM", "BN",
    "CN", "JP", "IN", "AU", "NZ", "HK", "TW", "US", "CA", "MX", "GB", "DE", "FR", "NL",
)  # fmt: skip


def document_types() -> list[str]:
    """``coo``, ``coo/1``, ... for every type docex knows (imported only when completing)."""
    from certificates import DOCUMENT_TYPES

    ids = sorted(DOCUMENT_TYPES)
    return sorted({type_id.split("/")[0] for type_id in ids}) + ids


def complete_document_type(incomplete: str) -> list[str]:
    return [value for value in document_types() if value.startswith(incomplete)]


def complete_country(incomplete: str) -> list[str]:
    return [code for code in COUNTRIES if code.startswith(incomplete.upper())]
