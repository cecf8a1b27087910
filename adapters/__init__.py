"""docex adapters: storage and outside formats. Imports only ``certificates``.

The public surface other layers may use; the rest is private and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from certificates.lazy_names import lazy_names

if TYPE_CHECKING:
    from adapters.content import (
        CarReader,
        Cid,
        ContentStat,
        ContentStore,
        DagStore,
        EmbeddedContentStore,
        FetchedDag,
        FetchLimits,
        GatewayFetcher,
        ImportedFile,
        ImportLayout,
        KuboContentStore,
        KuboVersion,
        import_bytes,
        import_stream,
        write_car,
    )

from adapters.errors import (
    BlockCorrupted,
    BlockMismatch,
    ContentError,
    ContentNotFound,
    ContentTooLarge,
    ContentVerificationFailed,
    InvalidBlock,
    InvalidCar,
    InvalidCid,
    KuboError,
    PeerFetchFailed,
    PeerRejection,
)

#: the content names, loaded on first use (PEP 562) so that importing ``adapters.errors``
#: or one content module does not load httpx and every store
_CONTENT = frozenset(
    [
        "CarReader",
        "Cid",
        "ContentStat",
        "ContentStore",
        "DagStore",
        "EmbeddedContentStore",
        "FetchedDag",
        "FetchLimits",
        "GatewayFetcher",
        "ImportedFile",
        "ImportLayout",
        "KuboContentStore",
        "KuboVersion",
        "import_bytes",
        "import_stream",
        "write_car",
    ]
)


__getattr__ = lazy_names(__name__, dict.fromkeys(_CONTENT, "adapters.content"))


__all__ = [
    "BlockCorrupted",
    "BlockMismatch",
    "CarReader",
    "Cid",
    "ContentError",
    "ContentNotFound",
    "ContentStat",
    "ContentStore",
    "ContentTooLarge",
    "ContentVerificationFailed",
    "DagStore",
    "EmbeddedContentStore",
    "FetchLimits",
    "FetchedDag",
    "GatewayFetcher",
    "ImportLayout",
    "ImportedFile",
    "InvalidBlock",
    "InvalidCar",
    "InvalidCid",
    "KuboContentStore",
    "KuboError",
    "KuboVersion",
    "PeerFetchFailed",
    "PeerRejection",
    "import_bytes",
    "import_stream",
    "write_car",
]
