"""The Kubo store between members' real Kubo peers in one private swarm (127.0.0.40 and
up): a DAG fetched by CID over bitswap and verified block by block, blocks written with
``dag import`` under their CIDs, and the trustless gateway served from Kubo's own blocks
without ever reaching into the swarm."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_fetcher import GatewayFetcher
from adapters.content.gateway_server import gateway_router
from adapters.content.kubo import KuboContentStore
from adapters.content.unixfs_importer import ImportLayout, import_bytes
from adapters.content.verified_dag import FetchLimits
from adapters.errors import PeerFetchFailed
from node.network import KuboNode, NetworkError

if TYPE_CHECKING:
    from conftest import KuboSwarm  # tests/conftest.py

    from ..conftest import Serve

pytestmark = pytest.mark.integration

#: three 256 KiB chunks and a root: a DAG of four blocks
CONTENT = random.Random(13).randbytes(700_000)


def test_a_dag_added_at_one_member_is_fetched_by_cid_at_another_over_bitswap(
    kubo_swarm: KuboSwarm,
) -> None:
    issuer, addressee = kubo_swarm(["127.0.0.40", "127.0.0.41"])
    with (
        KuboContentStore(issuer.api_url) as at_issuer,
        KuboContentStore(addressee.api_url) as at_addressee,
    ):
        cid = at_issuer.put(CONTENT)
        assert not at_addressee.has(cid)
        fetched = at_addressee.fetch_dag(cid, limits=FetchLimits(deadline_seconds=30))
        assert fetched.content() == CONTENT
        assert fetched.peer == at_addressee.source_name
        assert fetched.peer.startswith("bitswap via 127.0.0.41:")
        assert fetched.blocks[0][0] == cid
        assert len(fetched.blocks) == 4
        # Kubo holds what bitswap brought, unpinned, until the receiver keeps it
        assert cid not in at_addressee.pins()
        assert at_addressee.put_blocks(fetched.blocks) == 4
        at_addressee.pin(cid)
        assert cid in at_addressee.pins()
        # read back offline, as the addressee's gateway serves it to other members
        assert tuple(at_addressee.dag_blocks(cid)) == fetched.blocks
        assert at_addressee.get_block(cid) == fetched.blocks[0][1]
        assert at_addressee.has_block(fetched.blocks[-1][0])


def test_content_no_member_holds_is_not_in_swarm_once_the_deadline_passes(
    kubo_swarm: KuboSwarm,
) -> None:
    _issuer, addressee = kubo_swarm(["127.0.0.42", "127.0.0.43"])
    never_added = import_bytes(b"never added anywhere", ImportLayout(cid_version=1)).cid
    with KuboContentStore(addressee.api_url) as at_addressee:
        with pytest.raises(PeerFetchFailed) as failed:
            at_addressee.fetch_dag(never_added, limits=FetchLimits(deadline_seconds=1))
        assert not at_addressee.has_block(never_added)
    (rejection,) = failed.value.rejections
    assert rejection.reason == "not-in-swarm"
    assert rejection.peer == at_addressee.source_name


def test_an_outsider_with_another_swarm_key_gets_nothing_over_bitswap(
    kubo_swarm: KuboSwarm,
) -> None:
    (member,) = kubo_swarm(["127.0.0.44"])
    (outsider,) = kubo_swarm(["127.0.0.45"])  # a swarm key of its own
    with pytest.raises(NetworkError):  # the private swarm's handshake refuses it
        outsider.connect(member.as_peer())
    with (
        KuboContentStore(member.api_url) as at_member,
        KuboContentStore(outsider.api_url) as at_outsider,
    ):
        cid = at_member.put(b"only for the consortium")
        with pytest.raises(PeerFetchFailed) as failed:
            at_outsider.fetch_dag(cid, limits=FetchLimits(deadline_seconds=2))
    assert [r.reason for r in failed.value.rejections] == ["not-in-swarm"]


def test_blocks_docex_exports_import_into_kubo_under_the_same_cids(
    kubo: KuboNode, tmp_path: Path
) -> None:
    embedded = EmbeddedContentStore(tmp_path / "store")
    cid = embedded.put(CONTENT)
    blocks = tuple(embedded.dag_blocks(cid))
    with KuboContentStore(kubo.api_url) as store:
        assert store.put_blocks(blocks) == len(blocks)
        assert cid not in store.pins()  # written, not pinned: the caller pins its root
        store.pin(cid)
        assert store.get(cid) == CONTENT
        assert tuple(store.dag_blocks(cid)) == blocks


def test_the_gateway_over_kubo_serves_what_it_holds_and_never_fetches_from_the_swarm(
    kubo_swarm: KuboSwarm, serve: Serve
) -> None:
    issuer, addressee = kubo_swarm(["127.0.0.46", "127.0.0.47"])
    with (
        KuboContentStore(issuer.api_url) as at_issuer,
        KuboContentStore(addressee.api_url) as at_addressee,
    ):
        cid = at_issuer.put(CONTENT)
        issuer_gateway = serve(gateway_router(at_issuer))
        addressee_gateway = serve(gateway_router(at_addressee))
        with GatewayFetcher([addressee_gateway, issuer_gateway]) as fetcher:
            as_car = fetcher.fetch(cid)
            as_blocks = fetcher.fetch(cid, strategy="blocks")
        # the addressee's Kubo, peered with the issuer's, still answered 404 at once:
        # its gateway reads offline, so asking it never pulls content from the swarm
        assert [r.reason for r in as_car.rejections] == ["http-status"]
        assert as_car.peer == as_blocks.peer == issuer_gateway
        assert as_car.content() == as_blocks.content() == CONTENT
        assert not at_addressee.has(cid)
        assert not at_addressee.has_block(cid)
