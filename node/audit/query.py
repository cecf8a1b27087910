"""What an audit report is of: one document, or the documents of an issuer country or an
addressee country in a period; parsed and validated before anything is read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final

from node.audit.errors import InvalidAuditQuery

_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
_DATE_ONLY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportScope(StrEnum):
    DOCUMENT = "document"
    ISSUER = "issuer"
    ADDRESSEE = "addressee"


@dataclass(frozen=True, slots=True)
class AuditQuery:
    scope: ReportScope
    #: the receipt id, target hash or CID (document), or the country code
    subject: str
    #: the period as unix seconds, ``start <= t < end`` (None: unbounded)
    start: int | None = None
    end: int | None = None
    #: the period as given (for the report's ``query``)
    period_from: str | None = None
    period_to: str | None = None


def _instant(text: str, *, end_of_day: bool, name: str) -> int:
    """Unix seconds of an ISO date (its start, or the start of the next day for an end)
    or an ISO date-time (UTC unless it says otherwise)."""
    try:
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end_of_day:
                moment += timedelta(days=1)
            return int(moment.timestamp())
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidAuditQuery(
            f"`{name}` is an ISO date (2026-11-01) or date-time (2026-11-01T08:00:00Z), "
            f"not {text[:40]!r}",
            path=f"/{name}",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    seconds = int(parsed.timestamp())
    return seconds + 1 if end_of_day else seconds


def parse_audit_query(
    *,
    document: str | None,
    issuer: str | None,
    addressee: str | None,
    period_from: str | None,
    period_to: str | None,
) -> AuditQuery:
    """The query, or :class:`InvalidAuditQuery` saying what is wrong."""
    given = [
        (scope, value)
        for scope, value in (
            (ReportScope.DOCUMENT, document),
            (ReportScope.ISSUER, issuer),
            (ReportScope.ADDRESSEE, addressee),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidAuditQuery(
            "name exactly one of `document` (receipt id, target hash or CID), `issuer` or "
            "`addressee` (a country code)"
        )
    scope, subject = given[0]
    if scope is ReportScope.DOCUMENT:
        if period_from is not None or period_to is not None:
            raise InvalidAuditQuery(
                "a document's report is its whole provenance: `from` and `to` apply to "
                "issuer and addressee reports",
                path="/from" if period_from is not None else "/to",
            )
        return AuditQuery(scope, subject)
    if not _COUNTRY.fullmatch(subject):
        raise InvalidAuditQuery(
            f"`{scope.value}` is an ISO 3166-1 alpha-2 code such as VN, not {subject[:20]!r}",
            path=f"/{scope.value}",
        )
    start = _instant(period_from, end_of_day=False, name="from") if period_from else None
    end = _instant(period_to, end_of_day=True, name="to") if period_to else None
    if start is not None and end is not None and start >= end:
        raise InvalidAuditQuery(
            f"the period is empty: `from` ({period_from}) is not before `to` ({period_to})",
            path="/from",
        )
    return AuditQuery(scope, subject, start, end, period_from, period_to)
