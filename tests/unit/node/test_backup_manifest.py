"""A backup manifest's paths can never lead a restore outside the new data dir."""

from __future__ import annotations

import pytest

from node.backups.manifest import MANIFEST_FILE, safe_relative_path
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
