"""What must hold of a document before a node accepts it for anchoring.

Everything that would make anchoring fail later, or make an anchored document wrong,
is refused before the node answers 202 (nothing is stored, signed or served):

- **addressees**: a document docex exchanges is addressed to at least one country (the
  DocumentRegistry refuses a batch without addressees);
- **issue date**: not in the future. Clock tolerance: one day past today's UTC date,
  because an issue date is a calendar date in the issuer's own time zone (UTC+14 is a
  day ahead of UTC), and nothing more.

Duplicate document numbers need the node's records, so they are checked by the node
(:mod:`node.issuing.outbox`), not here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from certificates.errors import InvalidDocument
from certificates.schemas.validation import ValidatedDocument

#: how far past today's UTC date an issue date may be (time zones, not clock error)
ISSUE_DATE_TOLERANCE: Final = timedelta(days=1)

#: the largest allowance an issuer may set: the contract takes up to 2**96 - 1; a node
#: keeps to what every JSON client reads exactly (JavaScript's Number.MAX_SAFE_INTEGER)
MAX_ALLOWANCE: Final = 2**53 - 1


class NoAddressees(InvalidDocument):
    code = "no-addressees"


class IssueDateInFuture(InvalidDocument):
    code = "issue-date-in-future"


def check_anchorable(document: ValidatedDocument, today: date) -> None:
    """Refuse ``document`` (:class:`InvalidDocument`) if it could not, or should not, be
    anchored as it stands; ``today`` is the current UTC date."""
    if not document.addressee_countries():
        raise NoAddressees(
            f"a {document.type_id} document needs at least one addressee country "
            "(addresseeCountries): docex exchanges documents between administrations",
            path="/addresseeCountries",
        )
    latest = today + ISSUE_DATE_TOLERANCE
    if document.issued_on() > latest:
        raise IssueDateInFuture(
            f"the issue date {document.issued_on().isoformat()} is in the future "
            f"(the latest accepted today is {latest.isoformat()})",
            path="/issueDate",
        )
