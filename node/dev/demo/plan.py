"""How many certificates each step of the demo handles, scaled from ``--certificates``.

For the default 1,000: KR uses 990 against import declarations and rejects 5; VN amends
3 and revokes 2 (the five KR neither used nor rejected). Smaller runs keep every step
with at least one certificate, so a short demo shows the same story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_CERTIFICATES: Final = 1000
#: the smallest run in which every step has a certificate of its own
MINIMUM_CERTIFICATES: Final = 5
_REJECT_SHARE: Final = 5 / 1000
_AMEND_SHARE: Final = 3 / 1000
_REVOKE_SHARE: Final = 2 / 1000


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Positions (0-based, in issue order) of the certificates each step handles."""

    certificates: int
    rejected: int
    amended: int
    revoked: int

    @classmethod
    def for_certificates(cls, certificates: int) -> DemoPlan:
        if certificates < MINIMUM_CERTIFICATES:
            raise ValueError(f"the demo needs at least {MINIMUM_CERTIFICATES} certificates")
        return cls(
            certificates=certificates,
            rejected=max(1, round(certificates * _REJECT_SHARE)),
            amended=max(1, round(certificates * _AMEND_SHARE)),
            revoked=max(1, round(certificates * _REVOKE_SHARE)),
        )

    @property
    def used(self) -> int:
        return self.certificates - self.rejected - self.amended - self.revoked

    @property
    def used_positions(self) -> range:
        return range(0, self.used)

    @property
    def rejected_positions(self) -> range:
        return range(self.used, self.used + self.rejected)

    @property
    def amended_positions(self) -> range:
        start = self.used + self.rejected
        return range(start, start + self.amended)

    @property
    def revoked_positions(self) -> range:
        start = self.used + self.rejected + self.amended
        return range(start, start + self.revoked)
