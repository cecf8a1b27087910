"""Settings: code > DOCEX_* environment > config file > defaults; bad settings refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from node.backend_kinds import ChainKind, StoreKind
from node.errors import InvalidSettings
from node.settings import load_settings


def test_the_defaults_bind_to_loopback_on_the_embedded_components() -> None:
    settings = load_settings()

    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.chain is ChainKind.ANVIL
    assert settings.content_store is StoreKind.EMBEDDED


def test_environment_beats_the_config_file_and_options_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        'country = "KR"\nport = 8001\nbatch_size = 50\nchain = "rpc"\n'
        'rpc_url = "http://127.0.0.1:8545"\n[peer_gateways]\nVN = "http://127.0.0.1:8000"\n'
    )
    monkeypatch.setenv("DOCEX_PORT", "8002")
    monkeypatch.setenv("DOCEX_BATCH_SIZE", "60")

    settings = load_settings(config, batch_size=70)

    assert settings.country == "KR"
    assert settings.port == 8002
    assert settings.batch_size == 70
    assert settings.chain is ChainKind.RPC
    assert settings.peer_gateways == {"VN": "http://127.0.0.1:8000"}


def test_a_kubo_store_without_its_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCEX_CONTENT_STORE", "kubo")

    with pytest.raises(InvalidSettings, match="kubo_url"):
        load_settings()


def test_an_unknown_setting_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "node.json"
    config.write_text('{"batch_sise": 10}')

    with pytest.raises(InvalidSettings, match="batch_sise"):
        load_settings(config)


def test_the_databases_are_sqlite_files_unless_a_postgres_url_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCEX_DATA_DIR", str(tmp_path))
    default = load_settings()
    assert default.database_location == tmp_path / "node.sqlite"
    assert default.index_location == tmp_path / "index.sqlite"

    url = "postgresql://docex:s3cret@127.0.0.1:5432/docex_vn"
    monkeypatch.setenv("DOCEX_DATABASE_URL", url)
    settings = load_settings()

    assert settings.database_location == settings.index_location == url
    assert settings.journal_path == tmp_path / "transactions.sqlite"  # stays a file
    assert "s3cret" not in repr(settings)  # the URL's password is never printed


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        # PostgreSQL is the one database named by URL (SQLite is the data dir's files)
        *(
            ("DOCEX_DATABASE_URL", url)
            for url in ("sqlite:///node.sqlite", "mysql://db/docex", "postgresql:/no-host", "x")
        ),
        # scrypt's n: a power of two, from 2^10 to geth's standard 2^18
        *(("DOCEX_DEV_KEY_SCRYPT_N", n) for n in ("1000", "512", str(2**19))),
    ],
)
def test_a_setting_off_its_domain_is_refused_by_name(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(InvalidSettings, match=variable.removeprefix("DOCEX_").lower()):
        load_settings()


def test_the_dev_consortium_keys_take_the_scrypt_cost_the_settings_name(tmp_path: Path) -> None:
    """The suites' throwaway nodes ask for a light cost (DOCEX_DEV_KEY_SCRYPT_N); every
    keystore the first start makes carries it, and the node unlocks them."""
    from node.runtime import NodeRuntime

    settings = load_settings(data_dir=tmp_path / "vn", chain="eth-tester", dev_key_scrypt_n=2048)
    runtime = NodeRuntime(settings)
    try:
        services = runtime.open()
        assert services.ledger is not None
    finally:
        runtime.stop()

    keystores = sorted((tmp_path / "vn" / "keys").glob("*.json"))
    assert len(keystores) >= 9  # member, issuer and encryption keys of VN, KR and SG
    for path in keystores:
        document = json.loads(path.read_text())
        entries = document.get("keys", [document])  # a keyring holds its keystores
        for entry in entries:
            keystore = entry.get("keystore", entry)
            assert keystore["crypto"]["kdfparams"]["n"] == 2048, path.name
    assert load_settings().dev_key_scrypt_n == 2**18  # geth's standard cost by default


def test_a_node_process_takes_turns_on_the_gil_as_often_as_set() -> None:
    from node.runtime import apply_gil_switch_interval

    before = sys.getswitchinterval()
    try:
        apply_gil_switch_interval(load_settings())
        assert sys.getswitchinterval() == pytest.approx(0.0005)  # the default, 0.5 ms
        apply_gil_switch_interval(load_settings(gil_switch_interval_ms=5))
        assert sys.getswitchinterval() == pytest.approx(0.005)
    finally:
        sys.setswitchinterval(before)
    for refused in (0, -1, 101):
        with pytest.raises(InvalidSettings):
            load_settings(gil_switch_interval_ms=refused)
