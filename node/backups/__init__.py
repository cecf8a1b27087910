"""backups: ``docex backup`` and ``docex restore`` (docs/operations.md).

:func:`take_backup` copies what a member cannot rebuild from the chain while the node
serves; :func:`restore_backup` checks a backup against its manifest and copies it into
a new data dir; :func:`resync_after_restore` rebuilds the index from the chain, fetches
the inbox's missing batches and reports what the chain holds that the backup did not.
"""

from node.backups.manifest import BackupManifest, manifest_sha256, manifest_summary
from node.backups.restore import (
    REPORT_FILE,
    ResyncReport,
    check_same_chain,
    restore_backup,
    resync_after_restore,
    resync_skipped_reason,
    verify_backup,
)
from node.backups.snapshot import take_backup

__all__ = [
    "REPORT_FILE",
    "BackupManifest",
    "ResyncReport",
    "check_same_chain",
    "manifest_sha256",
    "manifest_summary",
    "restore_backup",
    "resync_after_restore",
    "resync_skipped_reason",
    "take_backup",
    "verify_backup",
]
