"""The roles a node grants its users (see node/http/deps.py for what each may do)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ISSUER = "issuer"
    CUSTOMS_OFFICER = "customs-officer"
    AUDITOR = "auditor"
    ADMIN = "admin"
