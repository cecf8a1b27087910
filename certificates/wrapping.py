"""Issuing a batch: salt every document, hash, build the Merkle tree, sign the root."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from certificates.disclosure import RandomBytes, SaltedDocument
from certificates.errors import InvalidDocument
from certificates.json_types import JsonObject
from certificates.merkle import MerkleTree
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
class IssuedBatch:
    """Wrapped documents (in input order) and what the issuer signed for them."""

    documents: tuple[WrappedDocument, ...]
    anchor: BatchAnchor
    signature: BatchSignature

    def manifest(self, names: Sequence[str] | None = None) -> JsonObject:
        """The batch manifest: root, type, count, addressees, signature, documents."""
        if names is not None and len(names) != len(self.documents):
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
                    "targetHash": "0x" + document.target_hash.hex(),
                    **({"file": names[index]} if names is not None else {}),
                }
                for index, document in enumerate(self.documents)
            ],
        }


def wrap_batch(
    documents: Sequence[IssuableDocument],
    *,
    signing_key: bytes,
    domain: Eip712Domain,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> IssuedBatch:
    """Salt, hash, batch and sign ``documents`` (all of one document type)."""
    if not documents:
        raise InvalidDocument("a batch needs at least one document")
    types = sorted({document.type_id for document in documents})
    if len(types) > 1:
        raise MixedBatch(
            f"a batch holds one document type; found {', '.join(types)}: wrap them separately"
        )
    salted = [SaltedDocument.salt(document.data, random_bytes) for document in documents]
    targets = [document.target_hash() for document in salted]
    tree = MerkleTree.build(targets)
    addressees = sorted(
        {country for document in documents for country in document.addressee_countries()}
    )
    anchor = BatchAnchor(
        root=tree.root,
        document_type=types[0],
        document_count=len(documents),
        addressees=tuple(addressees),
    )
    signature = BatchSignature(
        domain=domain,
        signer=address_of(signing_key),
        value=sign_batch_anchor(signing_key, domain, anchor),
    )
    wrapped = tuple(
        WrappedDocument(
            salted=salted_document,
            target_hash=target,
            batch=BatchMembership(anchor=anchor, proof=proof),
            signature=signature,
        )
        for salted_document, target, proof in zip(salted, targets, tree.proofs(), strict=True)
    )
    return IssuedBatch(documents=wrapped, anchor=anchor, signature=signature)
