"""DOCEX_LOGS_PAGE_BLOCKS: how many blocks the event indexer asks eth_getLogs for at once
(Besu refuses wider ranges than its --rpc-max-logs-range)."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import InvalidSettings
from node.settings import load_settings


def test_the_indexer_reads_a_thousand_blocks_per_request_by_default(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).logs_page_blocks == 1000


def test_the_page_size_comes_from_docex_logs_page_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCEX_LOGS_PAGE_BLOCKS", "250")
    assert load_settings(data_dir=tmp_path).logs_page_blocks == 250


@pytest.mark.parametrize("blocks", [0, -1])
def test_a_page_of_no_blocks_is_refused(tmp_path: Path, blocks: int) -> None:
    with pytest.raises(InvalidSettings, match="logs_page_blocks"):
        load_settings(data_dir=tmp_path, logs_page_blocks=blocks)
