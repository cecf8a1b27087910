"""Suite-wide: mark tests by the layer folder they live in (tests/integration, tests/e2e),
and keep together, under pytest-xdist, the tests that share a costly fixture.

``make test`` runs ``pytest -n 3 --dist loadgroup``: tests are spread one by one over the
workers, except that the tests of a module using a module- or session-scoped fixture (a
consortium of nodes, a node with a corpus, a browser) form one group and run on one
worker, so that fixture is built once. Every test takes its own free ports
(``find_free_port``) and temporary directories: none shares a port or a file with another.

Suite-wide fixture: ``kubo_swarm(hosts)`` starts one real Kubo (bin/ipfs, `make engines`)
per address in one private swarm, each peered with the others and connected (127.0.0.40
and up: not the 127.0.0.2-5 of `docex network`'s tests); after the test each is audited
closed and stopped by PID.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from node.network import KuboNode

KuboSwarm = Callable[..., "list[KuboNode]"]

_HERE = Path(__file__).parent
_SHARED_SCOPES = ("module", "session", "package")
_CHEAP = frozenset(
    {"tmp_path_factory", "tmpdir_factory", "worker_id", "testrun_uid", "record_testsuite_property"}
)


def pytest_configure(config: pytest.Config) -> None:
    _let_children_take_ctrl_c()


def _let_children_take_ctrl_c() -> None:
    """A run started in the background of a shell without job control (``make test &``,
    nohup, some CI runners) has SIGINT ignored, and every process it starts inherits that
    (an ignored signal stays ignored across exec): the tests that press Ctrl-C on a
    ``docex`` process would see it run on. Python's own handler is put back here, in
    pytest and in each xdist worker, so the processes the tests start get SIGINT's default
    (a handler is reset at exec), as from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# first: xdist's own hook (registered after this file) reads the groups to schedule by
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _leave_out_soak_tests(config, items)
    for item in items:
        layer = Path(item.path).relative_to(_HERE).parts[0]
        if layer == "integration":
            item.add_marker(pytest.mark.integration)
        elif layer == "e2e":
            item.add_marker(pytest.mark.e2e)
        if "network" in Path(item.path).relative_to(_HERE).parts[:2]:
            # the consortium networks' engines bind the same 127.0.0.x member addresses:
            # two networks at once on two workers would meet each other
            item.add_marker(pytest.mark.xdist_group("network-engines"))
        elif _uses_a_shared_fixture(item):
            item.add_marker(pytest.mark.xdist_group(str(Path(item.path).relative_to(_HERE))))


def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker of ``--dist loadgroup``: refuse to run when the groups did not
    take (pytest-xdist marks a grouped test by suffixing its id with ``@group``; a pytest
    it does not fit keeps the plain id). Ungrouped, a module's shared network would be
    built on both workers at once, on the same addresses."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [
        item.nodeid
        for item in session.items
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid
    ]
    if lost:
        raise pytest.UsageError(
            f"pytest-xdist did not apply the xdist_group marks ({len(lost)} tests, e.g. "
            f"{lost[0]}): check the pytest and pytest-xdist versions (pyproject.toml)"
        )


def _leave_out_soak_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``soak`` belong to ``make soak``: deselected, wherever they live,
    unless ``-m`` names the marker (``pytest tests -m soak``)."""
    if "soak" in str(config.getoption("markexpr", default="") or ""):
        return
    soak = [item for item in items if item.get_closest_marker("soak") is not None]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if item.get_closest_marker("soak") is None]


def _uses_a_shared_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        definition.scope in _SHARED_SCOPES
        for name, definitions in info.name2fixturedefs.items()
        # pytest's and xdist's own session fixtures cost nothing to build twice
        if name not in _CHEAP
        for definition in definitions
    )


@pytest.fixture
def kubo_swarm(tmp_path: Path) -> Iterator[KuboSwarm]:
    from ledger.chains import find_free_port
    from node.network import (
        KuboNode,
        PidFile,
        audit_kubo_node,
        consortium_networks,
        engine_binary,
        new_swarm_secret,
    )

    pids = PidFile(tmp_path / "swarm.pids.json")
    started: list[KuboNode] = []
    allowed: list[IPv4Address] = []

    def start(hosts: list[str], *, secret: bytes | None = None) -> list[KuboNode]:
        secret = secret or new_swarm_secret()
        nodes = []
        for host in hosts:
            address = IPv4Address(host)
            kubo = KuboNode(
                engine_binary("kubo"),
                tmp_path / f"kubo-{host}",
                host=address,
                swarm_port=find_free_port(host),
                api_port=find_free_port(host),
                swarm_secret=secret,
                pid_file=pids,
                name=f"kubo-{host}",
            )
            kubo.init()
            nodes.append(kubo)
            allowed.append(address)
        for kubo in nodes:
            kubo.configure([other.as_peer() for other in nodes if other is not kubo])
        started.extend(nodes)
        for kubo in nodes:
            kubo.start()
        for kubo in nodes[1:]:
            nodes[0].connect(kubo.as_peer())
        return nodes

    try:
        yield start
        networks = consortium_networks(allowed)
        assert [v for kubo in started for v in audit_kubo_node(kubo, networks)] == []
    finally:
        for kubo in started:
            kubo.stop()
        pids.stop_all()
        assert pids.entries() == []
