"""Content storage: UnixFS/IPFS-compatible, embedded or over Kubo's RPC API.

The trustless-gateway *server* (:mod:`adapters.content.gateway_server`, an ASGI router)
is imported from its module by the HTTP edge only, so that importing the store does not
load a web framework.
"""

from adapters.content.car import CarReader, write_car
from adapters.content.cid import DAG_PB, RAW, Cid
from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_fetcher import FetchedDag, FetchLimits, GatewayFetcher
from adapters.content.kubo import KuboContentStore, KuboVersion
from adapters.content.store import ContentStat, ContentStore
from adapters.content.unixfs_importer import ImportedFile, ImportLayout, import_bytes, import_stream

__all__ = [
    "DAG_PB",
    "RAW",
    "CarReader",
    "Cid",
    "ContentStat",
    "ContentStore",
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
