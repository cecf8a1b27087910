"""docex's embedded store and a real Kubo v0.43.1 agree on every CID, block and CAR.

`ipfs add` (Kubo's defaults, and --cid-version=1) must print the CID the embedded store
gives for the same bytes; a CAR exported by the embedded store must import into Kubo
(`ipfs dag import`) under the same CIDs, block for block, and Kubo's own export of it
must be the same bytes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.content.embedded import EmbeddedContentStore
from node.network import KuboNode

MakeFile = Callable[..., Path]
CHUNK = 262_144
#: one more chunk than a dag-pb node links (174): the tree grows a second level
TWO_LEVELS = 174 * CHUNK + 1


def ipfs(kubo: KuboNode, *args: object) -> bytes:
    """The `ipfs` command line against the running daemon, offline (no fetching)."""
    completed = subprocess.run(
        [
            str(kubo.executable),
            "--api",
            f"/ip4/{kubo.host}/tcp/{kubo.api_port}",
            "--offline",
            *map(str, args),
        ],
        env=kubo.environment,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return completed.stdout


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 3_000_000, TWO_LEVELS])
def test_ipfs_add_gives_the_cid_the_embedded_store_gives(
    kubo: KuboNode, tmp_path: Path, make_file: MakeFile, size: int, cid_version: int
) -> None:
    path = make_file(size, 7)
    ours = EmbeddedContentStore(tmp_path / "store", cid_version=cid_version, fsync=False)
    with path.open("rb") as stream:
        cid = ours.put(stream)
    version = ["--cid-version=1"] if cid_version else []
    printed = ipfs(kubo, "add", "--quieter", "--pin=false", *version, path)
    assert printed.decode().strip() == str(cid)


@pytest.mark.parametrize("cid_version", [0, 1])
def test_a_car_exported_by_docex_imports_into_kubo_with_identical_cids(
    kubo: KuboNode, tmp_path: Path, make_file: MakeFile, cid_version: int
) -> None:
    content = make_file(1_500_000, 3).read_bytes()
    store = EmbeddedContentStore(tmp_path / "store", cid_version=cid_version, fsync=False)
    root = store.put(content)
    car = tmp_path / "document.car"
    with car.open("wb") as out:
        store.export_car(root, out)

    imported = ipfs(kubo, "dag", "import", "--pin-roots=true", car).decode()
    assert f"Pinned root\t{root}\tsuccess" in imported

    ours = [str(cid) for cid, _ in store.dag_blocks(root)]
    kubos = ipfs(kubo, "refs", "-r", "--unique", root).decode().split()
    assert [str(root), *kubos] == ours
    assert ipfs(kubo, "cat", root) == content
    assert ipfs(kubo, "dag", "export", root) == car.read_bytes()
