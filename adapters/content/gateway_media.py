"""Media types of the IPFS trustless gateway (shared by its server and its fetcher)."""

from __future__ import annotations

from typing import Final

RAW_MEDIA_TYPE: Final = "application/vnd.ipld.raw"
CAR_MEDIA_TYPE: Final = "application/vnd.ipld.car"
CAR_CONTENT_TYPE: Final = "application/vnd.ipld.car; version=1; order=dfs; dups=n"
