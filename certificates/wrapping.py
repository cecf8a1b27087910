"""Issuing a batch: salt every document, hash, build the Merkle tree, sign the root.

:class:`BatchBuilder` takes documents one at a time and keeps only a compact record of
each (its data marshalled, its salts, its target hash), so a batch of 100,000 documents
fits in a few hundred MiB; :class:`SignedBatch` then hands out the wrapped documents one
at a time, for writing out or storing.
"""

from __future__ import annotations

import json
import marshal
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Protocol

from certificates.disclosure import (
    RandomBytes,
    SaltedDocument,
    field_paths,
    iter_fields,
    salt_fields,
    split_salts,
)
from certificates.errors import InvalidDocument
from certificates.json_types import JsonObject
from certificates.merkle import DocumentTerms, MerkleTree
from certificates.signing import BatchAnchor, Eip712Domain, address_of, sign_batch_anchor
from certificates.wrapped import BatchMembership, BatchSignature, WrappedDocument

BATCH_MANIFEST_VERSION = "docex-batch/1"
#: How many distinct document shapes (lists of field paths) a builder shares between its
#: records; a document of another shape has its paths found again when it is wrapped.
_SHARED_SHAPES = 256
_path_of = itemgetter(0)


class IssuableDocument(Protocol):
    """A document that passed its schema: its type id, its JSON and its addressees."""

    @property
    def type_id(self) -> str: ...

    @property
    def data(self) -> JsonObject: ...

    def addressee_countries(self) -> tuple[str, ...]: ...


class MixedBatch(InvalidDocument):
    code = "mixed-batch"


@dataclass(frozen=True, slots=True)
class _Record:
    """One document as the builder keeps it: its data marshalled (smaller than its JSON, and
    several times faster to write and read back; never leaves the process), its salts in
    field order, its target hash and terms, and its field paths when shared with documents
    of the same shape."""

    data_marshalled: bytes
    salts: bytes
    target_hash: bytes
    terms: DocumentTerms
    paths: tuple[str, ...] | None


def _marshalled(data: JsonObject) -> bytes:
    try:
        return marshal.dumps(data)
    except ValueError:  # a subclass of str or int (an enum): plain JSON values, as before
        return marshal.dumps(json.loads(json.dumps(data)))


class BatchBuilder:
    """Collects the documents of one batch (one document type) before it is signed."""

    def __init__(self, random_bytes: RandomBytes = secrets.token_bytes) -> None:
        self._random_bytes = random_bytes
        self._records: list[_Record] = []
        self._document_type: str | None = None
        self._addressees: set[str] = set()
        self._terms: dict[tuple[tuple[str, ...], int], DocumentTerms] = {}
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, document: IssuableDocument, *, allowance: int = 1) -> bytes:
        """Salt and hash ``document``; return its target hash. Its terms (its own addressees
        and ``allowance``, the total quantity its addressees may use: 1 for a single-use
        certificate) are committed beside its leaf, where the DocumentRegistry checks them."""
        if self._document_type is None:
            self._document_type = document.type_id
        elif document.type_id != self._document_type:
            raise MixedBatch(
                f"a batch holds one document type; found {self._document_type} and "
                f"{document.type_id}: wrap them separately"
            )
        data = document.data
        fields = iter_fields(data)
        salts, target = salt_fields(fields, self._random_bytes)
        addressees = document.addressee_countries()
        # documents of a batch mostly share their terms and their shape: one frozen value
        # each, not a copy per document
        terms = self._terms.get((addressees, allowance))
        if terms is None:
            terms = self._terms.setdefault(
                (addressees, allowance), DocumentTerms(addressees, allowance)
            )
        paths = tuple(map(_path_of, fields))
        shared = self._shapes.get(paths)
        if shared is None and len(self._shapes) < _SHARED_SHAPES:
            shared = self._shapes.setdefault(paths, paths)
        self._records.append(
            _Record(
                data_marshalled=_marshalled(data),
                salts=salts,
                target_hash=target,
                terms=terms,
                paths=shared,
            )
        )
        self._addressees.update(addressees)
        return target

    def sign(self, *, signing_key: bytes, domain: Eip712Domain) -> SignedBatch:
        """Build the Merkle tree and sign its root for ``domain``."""
        if self._document_type is None:
            raise InvalidDocument("a batch needs at least one document")
        tree = MerkleTree.build_with_terms(
            [(record.target_hash, record.terms) for record in self._records]
        )
        anchor = BatchAnchor(
            root=tree.root,
            document_type=self._document_type,
            document_count=len(self._records),
            addressees=tuple(sorted(self._addressees)),
        )
        signature = BatchSignature(
            domain=domain,
            signer=address_of(signing_key),
            value=sign_batch_anchor(signing_key, domain, anchor),
        )
        return SignedBatch(tuple(self._records), tree, anchor, signature)


class SignedBatch:
    """A signed batch: its anchor, signature and (lazily wrapped) documents in input order."""

    def __init__(
        self,
        records: tuple[_Record, ...],
        tree: MerkleTree,
        anchor: BatchAnchor,
        signature: BatchSignature,
    ) -> None:
        self._records = records
        self._tree = tree
        self.anchor = anchor
        self.signature = signature

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[WrappedDocument]:
        return (self.document(index) for index in range(len(self._records)))

    def target_hashes(self) -> list[bytes]:
        return [record.target_hash for record in self._records]

    def document(self, index: int) -> WrappedDocument:
        """The wrapped document at ``index`` (rebuilt from the compact record)."""
        record = self._records[index]
        data: JsonObject = marshal.loads(record.data_marshalled)  # noqa: S302 - written by add() above
        salts = split_salts(record.paths or field_paths(data), record.salts)
        return WrappedDocument(
            salted=SaltedDocument(data=data, salts=salts, concealed={}),
            target_hash=record.target_hash,
            batch=BatchMembership(
                anchor=self.anchor, proof=self._tree.proof(index), terms=record.terms
            ),
            signature=self.signature,
        )

    def manifest(self, names: Sequence[str] | None = None) -> JsonObject:
        """The batch manifest: root, type, count, addressees, signature, documents."""
        if names is not None and len(names) != len(self._records):
            raise ValueError("one name per document")
        return {
            "version": BATCH_MANIFEST_VERSION,
            "root": "0x" + self.anchor.root.hex(),
            "documentType": self.anchor.document_type,
            "documentCount": self.anchor.document_count,
            "addressees": list(self.anchor.addressees),
            "signer": self.signature.signer,
            "signature": "0x" + self.signature.value.hex(),
            "chainId": self.signature.domain.chain_id,
            "verifyingContract": self.signature.domain.verifying_contract,
            "documents": [
                {
                    "index": index,
                    "targetHash": "0x" + record.target_hash.hex(),
                    **({"file": names[index]} if names is not None else {}),
                }
                for index, record in enumerate(self._records)
            ],
        }


def wrap_batch(
    documents: Sequence[IssuableDocument],
    *,
    signing_key: bytes,
    domain: Eip712Domain,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> SignedBatch:
    """Salt, hash, batch and sign ``documents`` (all of one document type)."""
    builder = BatchBuilder(random_bytes)
    for document in documents:
        builder.add(document)
    return builder.sign(signing_key=signing_key, domain=domain)
