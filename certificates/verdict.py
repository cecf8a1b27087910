"""The verification verdict: independent named checks, each with an outcome, a stable
machine code (:class:`~certificates.check_codes.CheckCode`) and a reason.

The offline checks (integrity, signature) and the on-chain ones the node adds later
(issuance, issuer, status, recognition) all produce a :class:`CheckResult`; a
:class:`Verdict` is their combination. A check is added by writing one function that
returns a ``CheckResult``, not by editing a chain of conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from certificates.check_codes import CheckCode
from certificates.json_types import JsonObject, JsonValue


class CheckStatus(StrEnum):
    VALID = "valid"
    #: the document fails this check: tampered, revoked, not recognised, ...
    INVALID = "invalid"
    #: the check does not apply here (e.g. no on-chain data offline); says why
    SKIPPED = "skipped"
    #: the check could not be carried out (chain unreachable, malformed input)
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: CheckStatus
    #: what programs switch on; ``reason`` is for people and may be reworded
    code: CheckCode
    reason: str
    data: Mapping[str, JsonValue] = field(default_factory=dict)

    @classmethod
    def valid(cls, name: str, code: CheckCode, reason: str, **data: JsonValue) -> CheckResult:
        return cls(name, CheckStatus.VALID, code, reason, data)

    @classmethod
    def invalid(cls, name: str, code: CheckCode, reason: str, **data: JsonValue) -> CheckResult:
        return cls(name, CheckStatus.INVALID, code, reason, data)

    @classmethod
    def skipped(cls, name: str, code: CheckCode, reason: str, **data: JsonValue) -> CheckResult:
        return cls(name, CheckStatus.SKIPPED, code, reason, data)

    @classmethod
    def error(cls, name: str, code: CheckCode, reason: str, **data: JsonValue) -> CheckResult:
        return cls(name, CheckStatus.ERROR, code, reason, data)

    def to_json(self) -> JsonObject:
        return {
            "name": self.name,
            "status": self.status.value,
            "code": self.code.value,
            "reason": self.reason,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    checks: tuple[CheckResult, ...]

    @property
    def valid(self) -> bool:
        """True only when at least one check ran and every check that ran passed.

        A skipped check neither passes nor fails a document; an error fails it (an
        answer that could not be established is not a green light).
        """
        ran = [check for check in self.checks if check.status is not CheckStatus.SKIPPED]
        return bool(ran) and all(check.status is CheckStatus.VALID for check in ran)

    def check(self, name: str) -> CheckResult:
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def with_checks(self, *more: CheckResult) -> Verdict:
        return Verdict(self.checks + more)

    def to_json(self) -> JsonObject:
        return {"valid": self.valid, "checks": [check.to_json() for check in self.checks]}
