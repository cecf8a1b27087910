"""Share links (ADR 0023): tokens stored hashed, lifetimes bounded, revoked and expired
links refused with their own codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access.share_links import SHARE_TOKEN, ShareLinks, hash_share_token
from node.db import open_database
from node.db.tables import ShareLinkRow
from node.errors import (
    InvalidRequestBody,
    ShareLinkExpired,
    ShareLinkInvalid,
    ShareLinkNotFound,
    ShareLinkRevoked,
)

TARGET = bytes(range(32))
DAY = 86_400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def links(tmp_path: Path, clock: Clock) -> ShareLinks:
    return ShareLinks(open_database(tmp_path / "node.sqlite"), max_days=30, clock=clock)


def test_a_token_is_unguessable_shown_once_and_stored_hashed(links: ShareLinks) -> None:
    first = links.create(TARGET, "moit-coo", 7)
    second = links.create(TARGET, "moit-coo", 7)

    assert SHARE_TOKEN.fullmatch(first.token)
    assert first.token != second.token
    with Session(links._engine) as session:
        rows = session.scalars(select(ShareLinkRow)).all()
    assert {row.token_hash for row in rows} == {
        hash_share_token(first.token),
        hash_share_token(second.token),
    }
    assert all(first.token not in (row.id, row.token_hash) for row in rows)
    assert links.open(first.token).target_hash == TARGET


def test_a_link_expires_after_its_days(links: ShareLinks, clock: Clock) -> None:
    token = links.create(TARGET, "moit-coo", 2).token
    clock.now += 2 * DAY - 1
    assert links.open(token).state(clock.now) == "active"
    clock.now += 1
    with pytest.raises(ShareLinkExpired):
        links.open(token)


@pytest.mark.parametrize("days", [0, 31, -1])
def test_a_lifetime_outside_one_to_the_maximum_is_refused(links: ShareLinks, days: int) -> None:
    with pytest.raises(InvalidRequestBody):
        links.create(TARGET, "moit-coo", days)
    assert links.of_document(TARGET) == []


def test_a_revoked_link_is_refused_and_stays_revoked(links: ShareLinks, clock: Clock) -> None:
    created = links.create(TARGET, "moit-coo", 7)
    revoked = links.revoke(created.link.id, "moit-coo")
    clock.now += 10
    again = links.revoke(created.link.id, "node-admin")

    with pytest.raises(ShareLinkRevoked):
        links.open(created.token)
    assert revoked.revoked_at == again.revoked_at
    assert again.revoked_by == "moit-coo"


@pytest.mark.parametrize("token", ["", "dxs_short", "dx_" + "A" * 43, "dxs_" + "A" * 43])
def test_anything_else_is_not_a_share_token(links: ShareLinks, token: str) -> None:
    links.create(TARGET, "moit-coo", 7)
    with pytest.raises(ShareLinkInvalid):
        links.open(token)


def test_an_unknown_link_id_is_not_found(links: ShareLinks) -> None:
    with pytest.raises(ShareLinkNotFound):
        links.revoke("0" * 32, "node-admin")
    with pytest.raises(ShareLinkNotFound):
        links.get("../../etc")
