"""Content storage: UnixFS/IPFS-compatible, embedded or over Kubo's RPC API.

The trustless-gateway *server* (:mod:`adapters.content.gateway_server`, an ASGI router)
is imported from its module by the HTTP edge only, so that importing the store does not
load a web framework.

The names below are loaded on first use (PEP 562): ``docex cid`` needs the importer,
not httpx and the stores, and a command starts in the time its own imports take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certificates.lazy_names import lazy_names

if TYPE_CHECKING:
    from adapters.content.car import CarReader, write_car
    from adapters.content.cid import DAG_PB, RAW, Cid
    from adapters.content.embedded import EmbeddedContentStore
    from adapters.content.gateway_fetcher import GatewayFetcher
    from adapters.content.kubo import KuboContentStore, KuboVersion
    from adapters.content.store import ContentStat, ContentStore, DagStore
    from adapters.content.unixfs_importer import (
        ImportedFile,
        ImportLayout,
        import_bytes,
        import_stream,
    )
    from adapters.content.verified_dag import FetchedDag, FetchLimits

#: public name -> the module that defines it
_HOMES = {
    "CarReader": "car",
    "write_car": "car",
    "DAG_PB": "cid",
    "RAW": "cid",
    "Cid": "cid",
    "EmbeddedContentStore": "embedded",
    "FetchedDag": "verified_dag",
    "FetchLimits": "verified_dag",
    "GatewayFetcher": "gateway_fetcher",
    "KuboContentStore": "kubo",
    "KuboVersion": "kubo",
    "ContentStat": "store",
    "ContentStore": "store",
    "DagStore": "store",
    "ImportedFile": "unixfs_importer",
    "ImportLayout": "unixfs_importer",
    "import_bytes": "unixfs_importer",
    "import_stream": "unixfs_importer",
}


__getattr__ = lazy_names(__name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()})


__all__ = [
    "DAG_PB",
    "RAW",
    "CarReader",
    "Cid",
    "ContentStat",
    "ContentStore",
    "DagStore",
    "EmbeddedContentStore",
    "FetchLimits",
    "FetchedDag",
    "GatewayFetcher",
    "ImportLayout",
    "ImportedFile",
    "KuboContentStore",
    "KuboVersion",
    "import_bytes",
    "import_stream",
    "write_car",
]
