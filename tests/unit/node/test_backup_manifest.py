"""A backup manifest's paths can never lead a restore outside the new data dir; the
restore's report names what the chain holds that the backup does not."""

from __future__ import annotations

import json

import pytest

from node.backups.manifest import MANIFEST_FILE, safe_relative_path
from node.backups.restore import AnchoredAfter, ResyncReport
from node.cli.local.backups import _describe_resync
from node.errors import BackupTampered


@pytest.mark.parametrize(
    "name", ["node.sqlite", "keys/VN-issuer.json", "content/blocks/AB/CIQA.data"]
)
def test_a_path_inside_the_backup_is_taken_as_it_is(name: str) -> None:
    assert safe_relative_path(name).as_posix() == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "../outside",
        "keys/../../outside",
        "keys/./VN-issuer.json",
        "keys//VN-issuer.json",
        "keys\\..\\outside",
        MANIFEST_FILE,
    ],
)
def test_a_path_that_could_leave_the_backup_is_refused(name: str) -> None:
    with pytest.raises(BackupTampered, match="outside the backup"):
        safe_relative_path(name)


def test_the_restore_report_names_each_batch_anchored_after_the_backup() -> None:
    root = "0x" + "ab" * 32
    report = ResyncReport(
        indexed_from=10,
        indexed_to=99,
        own_batches_on_chain=5,
        own_batches_in_backup=4,
        anchored_after_backup=(AnchoredAfter(root, "coo/1", 40, 97),),
        anchored_in_backup_not_on_chain=0,
        inbox_refetched=2,
        inbox_batches_pending=1,
    )

    text = _describe_resync(report)

    assert "blocks 10-99" in text
    assert "5 on chain, 4 of them in the backup" in text
    assert f"anchored after the backup (not in it): {root} (40 coo/1 documents, block 97)" in text
    assert "2 documents re-fetched" in text
    assert "1 batches still to fetch" in text
    assert json.loads(report.to_json())["anchored_after_backup"][0]["root"] == root
