"""``docex network up|status|down``: a consortium of members on this machine.

Each member (default VN, KR, SG, TH) gets its own 127.0.0.x address, its own geth Clique
signer, Kubo peer and docex node with keys of its own; the consortium contracts are
deployed with the signers as the registry's first members (their nodes' issuer and
encryption keys registered). ``up`` stays in the foreground until
Ctrl-C (then stops everything), or returns at once with ``--detach``; ``down`` stops
every recorded process by PID.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from certificates.errors import DocexError
from node.network.members import DEFAULT_CHAIN_ID, DEFAULT_COUNTRIES

# The engines, eth-account and the ledger are imported inside the commands: registering
# `docex network` costs the other docex commands nothing.

network_app = typer.Typer(
    name="network",
    help="A consortium network on this machine: per member a geth signer, a Kubo peer and "
    "a docex node.",
    no_args_is_help=True,
)

RootOption = Annotated[
    Path,
    typer.Option("--root", help="Where the members' directories, PIDs and state live.",
                 file_okay=False),
]  # fmt: skip
DEFAULT_ROOT = Path("data/network")


def _fail(command: str, message: str, exit_code: int = 1) -> NoReturn:
    typer.echo(f"docex network {command}: {message}", err=True)
    raise typer.Exit(exit_code)


def _agreement(value: str) -> tuple[str, str, str]:
    """``KR:VN:coo/1`` -> ("KR", "VN", "coo/1")."""
    parts = value.split(":")
    if len(parts) != 3 or not all(parts):
        raise typer.BadParameter(f"expected VERIFIER:ISSUER:TYPE, got {value!r}")
    verifier, issuer, document_type = parts
    return verifier.upper(), issuer.upper(), document_type


@network_app.command("up")
def up(
    root: RootOption = DEFAULT_ROOT,
    members: Annotated[
        str, typer.Option("--members", help="Country codes of the members, comma-separated.")
    ] = ",".join(DEFAULT_COUNTRIES),
    chain_id: Annotated[int, typer.Option("--chain-id")] = DEFAULT_CHAIN_ID,
    block_period: Annotated[int, typer.Option("--block-period", help="Seconds.")] = 1,
    detach: Annotated[
        bool, typer.Option("--detach", help="Return once up; `docex network down` stops it.")
    ] = False,
    light_kdf: Annotated[
        bool,
        typer.Option("--light-kdf", help="Cheap keystore encryption (throw-away networks)."),
    ] = False,
    agreement: Annotated[
        list[str] | None,
        typer.Option(
            "--agreement",
            help="VERIFIER:ISSUER:TYPE recorded at the first deployment, e.g. KR:VN:coo/1 "
            "(KR recognises VN's certificates of origin); repeatable.",
        ),
    ] = None,
) -> None:
    """Create (first time) or restart the network, deploy the contracts, check it is closed."""
    from node.network.consortium import LIGHT_SCRYPT_N, Consortium
    from node.network.geth import STANDARD_SCRYPT_N

    consortium = Consortium(root)
    countries = [code.strip().upper() for code in members.split(",") if code.strip()]
    try:
        deployment = consortium.up(
            countries,
            chain_id=chain_id,
            block_period=block_period,
            scrypt_n=LIGHT_SCRYPT_N if light_kdf else STANDARD_SCRYPT_N,
            agreements=[_agreement(value) for value in agreement or []],
        )
    except DocexError as error:
        _fail("up", f"{error.code}: {error.message}")
    for member in consortium.members():
        typer.echo(
            f"{member.country}  {member.host}  geth {member.rpc_url}  "
            f"kubo {member.kubo_api_url}  node {member.node_url}  signer {member.signer}"
        )
    typer.echo(
        f"chain {deployment.chain_id}: ConsortiumRegistry {deployment.consortium_registry}, "
        f"DocumentRegistry {deployment.document_registry}"
    )
    if detach:
        typer.echo(f"up; stop it with `docex network down --root {root}`")
        return
    typer.echo("up; Ctrl-C stops every member")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        consortium.down()
        typer.echo("stopped")


@network_app.command("status")
def status(root: RootOption = DEFAULT_ROOT) -> None:
    """Each member's geth, Kubo and node: running, answering, ready; or why not. Exit 1 if not."""
    from node.network.consortium import Consortium

    try:
        report = Consortium(root).status()
    except DocexError as error:
        _fail("status", f"{error.code}: {error.message}")
    for line in report:
        state = "ok  " if line.healthy else "DOWN"
        typer.echo(f"{line.member}  {line.engine:4}  {state}  {line.detail}")
    if not all(line.healthy for line in report):
        raise typer.Exit(1)


@network_app.command("follow")
def follow(
    root: RootOption = DEFAULT_ROOT,
    member: Annotated[
        list[str] | None,
        typer.Option("--member", help="Follow for this member only (repeatable); default all."),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between passes.")] = 1.0,
) -> None:
    """Keep each member's geth in step with the registry: Clique votes and peers (ADR 0056).

    `up` starts it for every member; without --member it also follows member hosts added
    later. It runs until SIGTERM or Ctrl-C."""
    from node.network.consortium import Consortium
    from node.observability.json_logs import configure_logging

    configure_logging("info")  # one JSON line per vote cast or peer dropped
    consortium = Consortium(root)
    stopped = threading.Event()
    threads: dict[str, threading.Thread] = {}

    def follow_new_members() -> None:
        countries = (
            [c.upper() for c in member] if member else [m.country for m in consortium.members()]
        )
        for country in countries:
            if country not in threads:
                follower = consortium.follower(country)
                threads[country] = threading.Thread(
                    target=follower.run, args=(stopped, poll), name=follower.name, daemon=True
                )
                threads[country].start()
                typer.echo(f"following the registry for {country}")

    try:
        follow_new_members()
    except DocexError as error:
        _fail("follow", f"{error.code}: {error.message}")
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(5 * poll):
            with contextlib.suppress(DocexError):  # network.json rewritten meanwhile
                follow_new_members()
    except KeyboardInterrupt:
        stopped.set()
    for thread in threads.values():
        thread.join(timeout=30)


@network_app.command("sign-record")
def sign_record(
    country: Annotated[str, typer.Option("--country", help="Your member's country code.")],
    enode: Annotated[str, typer.Option("--enode", help="Your geth's enode URL.")],
    chain_id: Annotated[int, typer.Option("--chain-id")],
    keystore: Annotated[
        Path, typer.Option("--keystore", help="Your member account's keystore.", dir_okay=False)
    ],
    passphrase_file: Annotated[
        Path, typer.Option("--passphrase-file", help="Its passphrase, first line.")
    ],
    records: Annotated[
        Path, typer.Option("--records", help="The node records file to add it to.")
    ] = Path("node-records.json"),
    seq: Annotated[int, typer.Option("--seq", help="Higher than your previous record's.")] = 1,
) -> None:
    """Sign your validator's enode with your member account (a docex-node-record/1, ADR
    0056) and add it to the records file the members' followers peer by."""
    from ledger.keystores import signer_from_keystore
    from node.network.node_records import add_node_record, sign_node_record

    try:
        passphrase = passphrase_file.read_text(encoding="utf-8").splitlines()[0]
        account = signer_from_keystore(keystore, passphrase)
        record = sign_node_record(
            bytes(account.key), country=country.upper(), enode=enode, chain_id=chain_id, seq=seq
        )
        add_node_record(records, record)
    except (OSError, IndexError) as error:
        _fail("sign-record", f"cannot read the keystore or its passphrase: {error}", 2)
    except DocexError as error:
        _fail("sign-record", f"{error.code}: {error.message}", 2)
    typer.echo(f"{record.country} {record.enode} signed by {account.address} -> {records}")


@network_app.command("docker")
def docker(
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the files.", file_okay=False)
    ] = Path("docker/generated"),
    members: Annotated[
        str, typer.Option("--members", help="Country codes of the members, comma-separated.")
    ] = ",".join(DEFAULT_COUNTRIES),
    chain_id: Annotated[int, typer.Option("--chain-id")] = DEFAULT_CHAIN_ID,
    block_period: Annotated[int, typer.Option("--block-period", help="Seconds.")] = 2,
    light_kdf: Annotated[
        bool, typer.Option("--light-kdf", help="Cheap keystore encryption (throw-away keys).")
    ] = False,
) -> None:
    """Write a Docker Compose consortium: Besu QBFT, Kubo + IPFS Cluster, PostgreSQL and a
    docex node per member (docker/README.md; not run here: no Docker engine)."""
    from node.network.consortium import LIGHT_SCRYPT_N
    from node.network.docker_consortium import write_docker_consortium
    from node.network.geth import STANDARD_SCRYPT_N

    countries = [code.strip().upper() for code in members.split(",") if code.strip()]
    try:
        written = write_docker_consortium(
            out,
            countries,
            chain_id=chain_id,
            block_period=block_period,
            scrypt_n=LIGHT_SCRYPT_N if light_kdf else STANDARD_SCRYPT_N,
        )
    except ValueError as error:
        _fail("docker", str(error), exit_code=2)
    for member in written:
        typer.echo(f"{member.country}  {member.address}  validator {member.account}")
    typer.echo(f"wrote {out}/compose.yaml, genesis.json, permissions_config.toml")


@network_app.command("down")
def down(root: RootOption = DEFAULT_ROOT) -> None:
    """Stop every process the network recorded, by PID."""
    from node.network.consortium import Consortium

    stopped = Consortium(root).down()
    typer.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


def register(app: typer.Typer) -> None:
    """Add ``docex network ...`` to ``app``."""
    app.add_typer(network_app)
