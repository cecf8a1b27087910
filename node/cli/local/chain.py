"""``docex chain``: deploy a consortium and look at the chain this node uses.

The chain is either a managed anvil (``--anvil``: started in the data dir with its
state persisted there, stopped when the command ends) or any JSON-RPC URL
(``--rpc-url``, e.g. a Besu validator).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certificates.errors import DocexError
from node.cli.exits import EXIT_REFUSED, EXIT_UNREADABLE, describe, fail
from node.cli.local.key_files import unlock_signing_key

if TYPE_CHECKING:
    from ledger.chains import Chain

# The ledger (web3, py-evm) is imported inside the commands that use it: other docex
# commands, such as `docex cid` with its memory budget, do not pay for it.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
JOURNAL_FILE = "transactions.sqlite"

chain_app = typer.Typer(
    name="chain", help="Deploy the consortium contracts; inspect the chain.", no_args_is_help=True
)

DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="The node's data directory.", file_okay=False)
]
RpcUrlOption = Annotated[
    str | None, typer.Option("--rpc-url", help="JSON-RPC endpoint (Besu, Geth, ganache, anvil).")
]
AnvilOption = Annotated[
    bool, typer.Option("--anvil", help="Use the managed anvil chain kept in the data dir.")
]
AnvilPortOption = Annotated[
    int, typer.Option("--anvil-port", help="127.0.0.1 port for the managed anvil.")
]


def register(app: typer.Typer) -> None:
    """Add ``docex chain ...`` to ``app``."""
    app.add_typer(chain_app)


@contextmanager
def _open_chain(
    command: str, data_dir: Path, rpc_url: str | None, anvil: bool, anvil_port: int
) -> Iterator[Chain]:
    from ledger.chains import JsonRpcChain, ManagedAnvil, anvil_binary

    if anvil == (rpc_url is not None):
        fail(command, EXIT_UNREADABLE, "give exactly one of --rpc-url URL and --anvil")
    if rpc_url is not None:
        chain = JsonRpcChain(rpc_url)
        try:
            yield chain
        finally:
            chain.close()
        return
    managed = ManagedAnvil(anvil_binary(NODE_MODULES), data_dir / "anvil", port=anvil_port)
    try:
        chain = managed.start()
    except DocexError as error:
        fail(command, EXIT_REFUSED, describe(error))
    try:
        yield chain
    finally:
        chain.close()
        managed.stop()


@chain_app.command("deploy")
def deploy(
    config: Annotated[
        Path, typer.Argument(help="Consortium configuration (.toml or .json).", dir_okay=False)
    ],
    data_dir: DataDirOption,
    rpc_url: RpcUrlOption = None,
    anvil: AnvilOption = False,
    anvil_port: AnvilPortOption = 8545,
    keystore: Annotated[
        Path | None,
        typer.Option("--keystore", help="Keystore of the deploying account.", dir_okay=False),
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="Keystore passphrase, first line.")
    ] = None,
    dev_account: Annotated[
        bool,
        typer.Option(
            "--dev-account",
            help="FOR LOCAL CHAINS ONLY: deploy from anvil's public development account 0.",
        ),
    ] = False,
) -> None:
    """Deploy ConsortiumRegistry and DocumentRegistry; write <data-dir>/chain.json."""
    from ledger.chains import dev_private_keys
    from ledger.contracts import load_artifacts, revert_decoder
    from ledger.deploy import deploy_consortium, load_config
    from ledger.journal import Journal
    from ledger.keystores import signer_from_key
    from ledger.transactions import TransactionManager

    if (keystore is None) == (not dev_account):
        fail("chain deploy", EXIT_UNREADABLE, "give exactly one of --keystore and --dev-account")
    try:
        consortium = load_config(config)
        artifacts = load_artifacts()
    except DocexError as error:
        fail("chain deploy", EXIT_UNREADABLE, describe(error))
    key = (
        unlock_signing_key("chain deploy", keystore, passphrase_file)
        if keystore is not None
        else dev_private_keys(1)[0]
    )
    signer = signer_from_key(key)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _open_chain("chain deploy", data_dir, rpc_url, anvil, anvil_port) as chain:
        journal = Journal(data_dir / JOURNAL_FILE)
        try:
            manager = TransactionManager(
                chain,
                journal,
                [signer],
                revert_decoder=revert_decoder(artifacts.values(), consortium.all_document_types()),
            )
            manager.resume()
            deployment = deploy_consortium(manager, signer.address, consortium, artifacts)
        except DocexError as error:
            fail("chain deploy", EXIT_REFUSED, describe(error))
        finally:
            journal.close()
    path = deployment.write(data_dir)
    typer.echo(
        f"ConsortiumRegistry {deployment.consortium_registry}\n"
        f"DocumentRegistry   {deployment.document_registry}\n"
        f"deployed at block {deployment.deployed_block} on chain {deployment.chain_id}; "
        f"written to {path}"
    )


@chain_app.command("status")
def status(
    data_dir: DataDirOption,
    rpc_url: RpcUrlOption = None,
    anvil: AnvilOption = False,
    anvil_port: AnvilPortOption = 8545,
) -> None:
    """Print the deployment, the chain head and the consortium's quorum and members (JSON)."""
    from ledger.contracts import ContractBinding, load_artifacts
    from ledger.deploy import Deployment

    try:
        deployment = Deployment.read(data_dir)
        artifacts = load_artifacts()
    except DocexError as error:
        fail("chain status", EXIT_UNREADABLE, describe(error))
    with _open_chain("chain status", data_dir, rpc_url, anvil, anvil_port) as chain:
        try:
            registry = ContractBinding(
                artifacts["ConsortiumRegistry"], deployment.consortium_registry
            )
            (quorum,) = registry.call(chain, "quorum")
            (members,) = registry.call(chain, "memberCount")
            (active,) = registry.call(chain, "activeMemberCount")
            head = int(chain.request("eth_blockNumber"), 16)
        except DocexError as error:
            fail("chain status", EXIT_REFUSED, describe(error))
    typer.echo(
        json.dumps(
            {
                "chain_id": deployment.chain_id,
                "head_block": head,
                "consortium_registry": deployment.consortium_registry,
                "document_registry": deployment.document_registry,
                "deployed_block": deployment.deployed_block,
                "quorum": quorum,
                "members": members,
                "active_members": active,
            },
            indent=2,
        )
    )
