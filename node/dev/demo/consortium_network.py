"""``docex demo --network``: the tour on the members of `docex network`.

Instead of one anvil and the dev consortium, the tour runs on a consortium network under
the demo's working directory: VN, KR, SG and TH, each on its own 127.0.0.x address with
its own geth Clique signer, Kubo peer and docex node, keys made by each member, KR
recognising VN's certificates of origin from the first deployment (TH takes no part in
the story). Every process is recorded by `docex network` and stopped by its PID at the
end, on failure and on Ctrl-C.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from certificates.errors import DocexError
from certificates.keystore import LIGHT_SCRYPT_N
from node.dev.demo.failures import DemoAborted
from node.dev.demo.network import add_node_user, stop_signals_ignored
from node.dev.dev_consortium import DEV_AGREEMENTS
from node.network.consortium import FOLLOWERS, Consortium, MemberEndpoints
from node.network.members import DEFAULT_COUNTRIES


class ConsortiumTourNetwork:
    """The members of a fresh `docex network` (``consortium``), for the tour."""

    description = "VN, KR, SG and TH: each its own geth signer, Kubo peer and docex node"

    def __init__(
        self,
        consortium: Consortium,
        node_settings: Mapping[str, object],
        user_environment: Mapping[str, str],
        stopped: Callable[[str, int, float], None],
    ) -> None:
        """``node_settings`` for every node; ``user_environment`` for ``docex users add``
        (no ``DOCEX_*``); ``stopped`` hears (name, PID, seconds) of each process stopped."""
        self.consortium = consortium
        self._settings = dict(node_settings)
        self._environment = dict(user_environment)
        self._stopped = stopped

    def start(self) -> None:
        """Bring the network up: engines, contracts, then every member's node ready."""
        try:
            self.consortium.up(
                DEFAULT_COUNTRIES,
                scrypt_n=LIGHT_SCRYPT_N,  # throw-away keys: minutes in a temporary directory
                agreements=DEV_AGREEMENTS,
                node_settings=self._settings,
            )
        except DocexError as error:  # engines not built, a member that did not start
            raise DemoAborted(f"docex network up: {error.code}: {error.message}") from None

    def add_user(self, country: str, name: str, role: str, types: str = "") -> str:
        return add_node_user(self.data_dir(country), name, role, types, self._environment)

    def url(self, country: str) -> str:
        return self._member(country).node_url

    def data_dir(self, country: str) -> Path:
        return self.consortium.root / country / "node"

    @property
    def rpc_url(self) -> str:
        """An ordinary Ethereum client of the consortium: VN's geth."""
        return self._member("VN").rpc_url

    def started(self) -> list[tuple[str, str, int]]:
        members = {m.country: m for m in self.consortium.members()}
        found = []
        for entry in self.consortium.pid_file.entries():
            if entry.name == FOLLOWERS:  # one process following every member's geth
                found.append((_label(entry.name), "each member's geth IPC socket", entry.pid))
                continue
            country, _, engine = entry.name.partition("-")
            member = members[country]
            where = {"node": member.node_url, "geth": member.rpc_url}.get(
                engine, member.kubo_api_url
            )
            found.append((_label(entry.name), where, entry.pid))
        return found

    def stop(self) -> None:
        """Every process the network recorded, stopped by PID (nodes first)."""
        with stop_signals_ignored():
            if not self.consortium.pid_file.path.exists():
                return
            entries = self.consortium.pid_file.entries()
            began = time.monotonic()
            stopped = set(self.consortium.down())
            seconds = time.monotonic() - began
            for entry in reversed(entries):  # the order `down` stops them in
                if entry.name in stopped:
                    self._stopped(_label(entry.name), entry.pid, seconds)

    def _member(self, country: str) -> MemberEndpoints:
        return next(m for m in self.consortium.members() if m.country == country)

    def __enter__(self) -> ConsortiumTourNetwork:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _label(recorded: str) -> str:
    """``VN-node`` as ``VN node``; the followers' one process as ``signer followers``."""
    if recorded == FOLLOWERS:
        return "signer followers"
    country, _, engine = recorded.partition("-")
    return f"{country} {engine}"
