"""``docex backup`` and ``docex restore``: a node's data, copied while it serves, and
brought back on another machine (node/backups/, docs/operations.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from certificates.errors import DocexError, InvalidInput
from node.backend_kinds import ChainKind
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.settings_options import ConfigOption, DataDirOption, settings_for

if TYPE_CHECKING:
    from node.backups import BackupManifest, ResyncReport

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def register(app: typer.Typer) -> None:
    """Add ``docex backup`` and ``docex restore`` to ``app``."""
    app.command("backup")(backup)
    app.command("restore")(restore)


def _give_up(command: str, error: Exception) -> NoReturn:
    if isinstance(error, InvalidInput):
        fail(command, EXIT_UNREADABLE, describe(error))
    if isinstance(error, DocexError):
        fail(command, EXIT_REFUSED, describe(error))
    fail(command, EXIT_UNREADABLE, f"{error}")


def backup(
    destination: Annotated[
        Path, typer.Argument(help="A new or empty directory, ideally on another disk.")
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    country: Annotated[
        str | None, typer.Option("--country", help="This node's member country (DOCEX_COUNTRY).")
    ] = None,
    settle_timeout: Annotated[
        float,
        typer.Option(
            "--settle-timeout",
            min=1,
            help="Seconds a running node may take to anchor what it was working on.",
        ),
    ] = 300.0,
    as_json: JsonOption = False,
) -> None:
    """Back up this node's data (databases, keys, stored content, settings) while it runs."""
    from node.backups import manifest_sha256, manifest_summary, take_backup

    settings = settings_for("backup", config, data_dir=data_dir, country=country)
    try:
        manifest = take_backup(
            settings, destination, config_file=config, settle_timeout=settle_timeout
        )
    except (DocexError, OSError) as error:
        _give_up("backup", error)
    summary = manifest_summary(manifest)
    digest = manifest_sha256(destination)
    if as_json:
        typer.echo(
            json.dumps({"backup": str(destination), "manifest_sha256": digest, **summary}, indent=2)
        )
        return
    typer.echo(_describe_backup(destination, manifest))
    typer.echo(
        f"  manifest SHA-256: {digest}\n  (note it apart from the backup: "
        "docex restore --manifest-sha256 then proves no file was changed)"
    )


def _describe_backup(destination: Path, manifest: BackupManifest) -> str:
    size = sum(entry.bytes for entry in manifest.files)
    chain = manifest.chain
    where = (
        "chain unknown (no chain.json)"
        if chain is None
        else f"chain {chain.chain_id}, DocumentRegistry {chain.document_registry}, "
        + (f"head block {chain.head_block}" if chain.head_block is not None else "head not reached")
    )
    lines = [
        f"backed up the {manifest.country} node ({manifest.mode}) into {destination}: "
        f"{len(manifest.files)} files, {size / 1_048_576:.1f} MiB",
        f"  {where}",
        f"  manifest: {destination / 'manifest.json'} (SHA-256 of every file)",
    ]
    if manifest.settled_documents:
        lines.append(
            f"  {manifest.settled_documents} documents the node was anchoring when the "
            "backup began are in it as anchored"
        )
    lines.append(
        "  it holds the keys and their passphrase files: keep it as safe as the node itself"
    )
    return "\n".join(lines)


def restore(
    source: Annotated[Path, typer.Argument(help="A backup directory (docex backup).")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: Annotated[
        ChainKind | None, typer.Option("--chain", help="anvil, rpc or eth-tester (DOCEX_CHAIN).")
    ] = None,
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", help="JSON-RPC URL for --chain rpc (DOCEX_RPC_URL).")
    ] = None,
    resync: Annotated[
        bool,
        typer.Option(
            "--resync/--no-resync",
            help="After copying: rebuild the index from the chain and fetch the inbox.",
        ),
    ] = True,
    expected_manifest: Annotated[
        str | None,
        typer.Option(
            "--manifest-sha256",
            help="The manifest SHA-256 docex backup printed: refuse any other manifest.",
        ),
    ] = None,
    resync_timeout: Annotated[
        float,
        typer.Option("--resync-timeout", min=1, help="Seconds to spend fetching the inbox."),
    ] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into a new, empty data directory, then re-sync it from the chain."""
    from node.backups import (
        BackupManifest,
        check_same_chain,
        manifest_summary,
        restore_backup,
        resync_after_restore,
        resync_skipped_reason,
    )

    try:
        manifest = BackupManifest.read(source)
    except DocexError as error:
        _give_up("restore", error)
    settings = settings_for(
        "restore",
        config,
        data_dir=data_dir,
        chain=chain,
        rpc_url=rpc_url,
        country=manifest.country,
    )
    skipped = "not asked (--no-resync)" if not resync else resync_skipped_reason(settings)
    try:
        if skipped is None:
            check_same_chain(settings, manifest)
        restore_backup(source, settings.data_dir, manifest_sha256=expected_manifest)
        report = (
            None if skipped is not None else resync_after_restore(settings, timeout=resync_timeout)
        )
    except (DocexError, OSError) as error:
        _give_up("restore", error)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "data_dir": str(settings.data_dir),
                    "backup": manifest_summary(manifest),
                    "resync": None if report is None else json.loads(report.to_json()),
                    "resync_skipped": skipped,
                },
                indent=2,
            )
        )
        return
    typer.echo(
        f"restored {len(manifest.files)} files of the {manifest.country} node's backup of "
        f"{manifest.created_at} into {settings.data_dir} (every file matched its SHA-256)"
    )
    typer.echo(_describe_resync(report) if report is not None else f"  re-sync: {skipped}")


def _describe_resync(report: ResyncReport) -> str:
    lines = [
        f"  event index rebuilt from the chain: blocks {report.indexed_from}-{report.indexed_to}",
        f"  batches this node anchored: {report.own_batches_on_chain} on chain, "
        f"{report.own_batches_in_backup} of them in the backup",
    ]
    for batch in report.anchored_after_backup:
        lines.append(
            f"    anchored after the backup (not in it): {batch.root} ({batch.documents} "
            f"{batch.document_type} documents, block {batch.block}): their documents verify "
            "from the chain; this node has no receipts or content for them"
        )
    if report.anchored_in_backup_not_on_chain:
        lines.append(
            f"  {report.anchored_in_backup_not_on_chain} batches anchored in the backup are "
            "not on this chain: the node re-sends their journalled anchors when it starts"
        )
    lines.append(
        f"  inbox: {report.inbox_refetched} documents re-fetched from their issuers' nodes"
        + (
            f"; {report.inbox_batches_pending} batches still to fetch (the node keeps trying)"
            if report.inbox_batches_pending
            else ""
        )
    )
    lines.append("  start the node on this data directory (docex run --data-dir ...)")
    return "\n".join(lines)
