"""Issuing a batch: salt every document, hash, build the Merkle tree, sign the root.

:class:`BatchBuilder` takes documents one at a time and keeps only a compact record of
each (its JSON, its salts, its target hash), so a batch of 100,000 documents fits in a
few hundred MiB; :class:`SignedBatch` then hands out the wrapped documents one at a
time, for writing out or storing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from certificates.disclosure import SALT_SIZE, RandomBytes, SaltedDocument, iter_fields
from certificates.errors import InvalidDocument
from certificates.json_types import JsonObject
from certificates.merkle import DocumentTerms, MerkleTree
from certificates.signing import BatchAnchor, Eip712Domain, address_of, sign_batch_anchor
from certificates.wrapped import BatchMembership, BatchSignature, WrappedDocument

BATCH_MANIFEST_VERSION = "docex-batch/1"


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
    """One document as the builder keeps it: compact JSON, salts in field order, target."""

    data_json: bytes
    salts: bytes
    target_hash: bytes
    terms: DocumentTerms


class BatchBuilder:
    """Collects the documents of one batch (one document type) before it is signed."""

    def __init__(self, random_bytes: RandomBytes = secrets.token_bytes) -> None:
        self._random_bytes = random_bytes
        self._records: list[_Record] = []
        self._document_type: str | None = None
        self._addressees: set[str] = set()

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
        salted, target = SaltedDocument.salt_with_target(document.data, self._random_bytes)
        self._records.append(
            _Record(
                data_json=json.dumps(
                    document.data, ensure_ascii=False, separators=(",", ":")
                ).encode("utf-8"),
                salts=b"".join(salted.salts.values()),
                target_hash=target,
                terms=DocumentTerms(document.addressee_countries(), allowance),
            )
        )
        self._addressees.update(document.addressee_countries())
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
        data: JsonObject = json.loads(record.data_json)
        paths = [path for path, _ in iter_fields(data)]
        salts = {
            path: record.salts[position * SALT_SIZE : (position + 1) * SALT_SIZE]
            for position, path in enumerate(paths)
        }
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
