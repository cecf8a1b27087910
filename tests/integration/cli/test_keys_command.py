"""``docex keys new`` and ``docex keys show``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import typer
from eth_account import Account
from typer.testing import CliRunner

from certificates.keystore import DEFAULT_SCRYPT_N, LIGHT_SCRYPT_N, decrypt_keystore
from node.cli.local import keys

PASSPHRASE = "correct horse battery staple"

runner = CliRunner()

# The keys group on an app of its own, registered the way node.cli.main registers it, so
# that these tests do not depend on the other command groups importing cleanly.
app = typer.Typer()


@app.callback()
def docex() -> None:
    """docex"""


keys.register(app)


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


def new_keystore(
    output: Path, passphrase_file: Path, *extra: str, light_kdf: bool = True
) -> tuple[int, str, str]:
    arguments = ["keys", "new", "-o", str(output), "--passphrase-file", str(passphrase_file)]
    if light_kdf:
        arguments.append("--light-kdf")
    result = runner.invoke(app, [*arguments, *extra])
    return result.exit_code, result.stdout, result.stderr


def test_new_then_show_report_the_same_address_and_no_derived_encryption_key(
    tmp_path: Path, passphrase_file: Path
) -> None:
    keystore_file = tmp_path / "member.json"
    exit_code, stdout, _ = new_keystore(keystore_file, passphrase_file, "--json")
    assert exit_code == 0
    created = json.loads(stdout)

    shown = runner.invoke(
        app,
        ["keys", "show", str(keystore_file), "--passphrase-file", str(passphrase_file), "--json"],
    )
    assert shown.exit_code == 0
    assert json.loads(shown.stdout) == created

    signing_key = decrypt_keystore(json.loads(keystore_file.read_text()), PASSPHRASE)
    # a member's encryption key is a key of its own (docex member init), never derived
    assert set(created) == {"keystore", "address"}
    assert created["address"] == Account.from_key(signing_key).address
    assert (
        created["address"].lower()
        == "0x" + json.loads(keystore_file.read_text())["address"].lower()
    )


def test_new_prints_the_address_but_never_the_private_key(
    tmp_path: Path, passphrase_file: Path
) -> None:
    keystore_file = tmp_path / "member.json"
    exit_code, stdout, stderr = new_keystore(keystore_file, passphrase_file)
    assert exit_code == 0
    signing_key = decrypt_keystore(json.loads(keystore_file.read_text()), PASSPHRASE)
    assert "address:" in stdout
    assert Account.from_key(signing_key).address in stdout
    assert signing_key.hex() not in (stdout + stderr).lower()


def test_the_keystore_file_is_readable_by_its_owner_only(
    tmp_path: Path, passphrase_file: Path
) -> None:
    keystore_file = tmp_path / "member.json"
    previous_umask = os.umask(0)  # the most permissive umask must not widen the mode
    try:
        exit_code, _, _ = new_keystore(keystore_file, passphrase_file)
    finally:
        os.umask(previous_umask)
    assert exit_code == 0
    assert stat.S_IMODE(keystore_file.stat().st_mode) == 0o600


def test_new_refuses_to_overwrite_an_existing_file(tmp_path: Path, passphrase_file: Path) -> None:
    keystore_file = tmp_path / "member.json"
    keystore_file.write_text("precious", encoding="utf-8")
    exit_code, stdout, stderr = new_keystore(keystore_file, passphrase_file)
    assert exit_code == 1
    assert "refusing to overwrite" in stderr
    assert stdout == ""
    assert keystore_file.read_text(encoding="utf-8") == "precious"


def test_new_refuses_to_write_through_a_dangling_symlink(
    tmp_path: Path, passphrase_file: Path
) -> None:
    keystore_file = tmp_path / "member.json"
    keystore_file.symlink_to(tmp_path / "elsewhere.json")
    exit_code, _, _ = new_keystore(keystore_file, passphrase_file)
    assert exit_code == 1
    assert not (tmp_path / "elsewhere.json").exists()


def test_light_kdf_is_opt_in_and_the_default_is_the_standard_scrypt_cost(
    tmp_path: Path, passphrase_file: Path
) -> None:
    light, standard = tmp_path / "light.json", tmp_path / "standard.json"
    assert new_keystore(light, passphrase_file)[0] == 0
    assert new_keystore(standard, passphrase_file, light_kdf=False)[0] == 0
    assert json.loads(light.read_text())["crypto"]["kdfparams"]["n"] == LIGHT_SCRYPT_N
    assert json.loads(standard.read_text())["crypto"]["kdfparams"]["n"] == DEFAULT_SCRYPT_N


def test_new_prompts_for_the_passphrase_twice(tmp_path: Path) -> None:
    keystore_file = tmp_path / "member.json"
    result = runner.invoke(
        app,
        ["keys", "new", "-o", str(keystore_file), "--light-kdf"],
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert result.exit_code == 0
    assert decrypt_keystore(json.loads(keystore_file.read_text()), PASSPHRASE)


def test_new_writes_nothing_when_the_two_passphrases_differ(tmp_path: Path) -> None:
    keystore_file = tmp_path / "member.json"
    result = runner.invoke(
        app,
        ["keys", "new", "-o", str(keystore_file), "--light-kdf"],
        input=f"{PASSPHRASE}\n{PASSPHRASE}!\n",
    )
    assert result.exit_code != 0
    assert not keystore_file.exists()


def test_new_refuses_a_short_passphrase(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("1234567\n", encoding="utf-8")
    keystore_file = tmp_path / "member.json"
    exit_code, _, stderr = new_keystore(keystore_file, short)
    assert exit_code == 1
    assert "at least 8" in stderr
    assert not keystore_file.exists()


def test_show_with_a_wrong_passphrase_exits_1(tmp_path: Path, passphrase_file: Path) -> None:
    keystore_file = tmp_path / "member.json"
    assert new_keystore(keystore_file, passphrase_file)[0] == 0
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n", encoding="utf-8")
    result = runner.invoke(
        app, ["keys", "show", str(keystore_file), "--passphrase-file", str(wrong)]
    )
    assert result.exit_code == 1
    assert "wrong-passphrase" in result.stderr
    assert result.stdout == ""


def test_show_prompts_for_the_passphrase(tmp_path: Path, passphrase_file: Path) -> None:
    keystore_file = tmp_path / "member.json"
    assert new_keystore(keystore_file, passphrase_file)[0] == 0
    result = runner.invoke(app, ["keys", "show", str(keystore_file)], input=PASSPHRASE + "\n")
    assert result.exit_code == 0
    assert "address:  0x" in result.stdout


def test_show_of_a_missing_file_exits_2(tmp_path: Path, passphrase_file: Path) -> None:
    result = runner.invoke(
        app,
        ["keys", "show", str(tmp_path / "absent.json"), "--passphrase-file", str(passphrase_file)],
    )
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"version": 3}', "{}"], ids=["text", "array", "v3 stub", "empty"]
)
def test_show_of_a_malformed_keystore_exits_1(
    tmp_path: Path, passphrase_file: Path, content: str
) -> None:
    keystore_file = tmp_path / "member.json"
    keystore_file.write_text(content, encoding="utf-8")
    result = runner.invoke(
        app, ["keys", "show", str(keystore_file), "--passphrase-file", str(passphrase_file)]
    )
    assert result.exit_code == 1
    assert "invalid-keystore" in result.stderr
