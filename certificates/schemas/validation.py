"""From a JSON value to a validated document of a known type, and back to JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Final

from pydantic import ValidationError

from certificates.errors import InvalidDocument, SchemaViolation, UnknownDocumentType
from certificates.json_types import JsonObject, JsonValue
from certificates.schemas.base import DocumentModel
from certificates.schemas.coo import CertificateOfOrigin
from certificates.schemas.coo_v2 import CertificateOfOriginV2
from certificates.schemas.declaration import Declaration
from certificates.schemas.permit import Permit
from certificates.strict_json import DEFAULT_MAX_BYTES, json_pointer, parse_strict_json

__all__ = [
    "DOCUMENT_TYPES",
    "ValidatedDocument",
    "document_json_schema",
    "parse_document",
    "validate_document",
]

#: Every document type docex knows, by versioned type id.
DOCUMENT_TYPES: Final[Mapping[str, type[DocumentModel]]] = MappingProxyType(
    {
        model.TYPE_ID: model
        for model in (CertificateOfOrigin, Permit, Declaration, CertificateOfOriginV2)
    }
)
_JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True)
class ValidatedDocument:
    """A document that satisfies its type's schema.

    It keeps the document's JSON and what the issue path asks of it (number, countries,
    dates), not the pydantic model: a batch of validated documents then holds a few
    containers each instead of a model instance (with its dict and fields set) per party
    and item, which is what made the garbage collector's full passes expensive.
    """

    type_id: str
    #: The document as plain JSON, exactly what is canonicalised and hashed: the model
    #: dumped with camelCase keys, omitted optional fields left out, defaults filled in.
    data: JsonObject
    _number: str
    _issuer_country: str
    _addressee_countries: tuple[str, ...]
    _issued_on: date
    _valid_until: date | None

    @property
    def model(self) -> DocumentModel:
        """The document's pydantic model, validated again from ``data`` on each access."""
        return DOCUMENT_TYPES[self.type_id].model_validate(self.data)

    def document_number(self) -> str:
        return self._number

    def issuer_country(self) -> str:
        return self._issuer_country

    def addressee_countries(self) -> tuple[str, ...]:
        """Sorted, unique ISO 3166-1 alpha-2 codes (see ``DocumentModel``)."""
        return self._addressee_countries

    def issued_on(self) -> date:
        return self._issued_on

    def valid_until(self) -> date | None:
        return self._valid_until


def _document_model(value: JsonObject) -> type[DocumentModel]:
    known = ", ".join(DOCUMENT_TYPES)
    type_id = value.get("documentType")
    if type_id is None:
        raise UnknownDocumentType(
            f"missing documentType; known document types: {known}", path="/documentType"
        )
    model = DOCUMENT_TYPES.get(type_id) if isinstance(type_id, str) else None
    if model is None:
        raise UnknownDocumentType(
            f"unknown documentType {type_id!r}; known document types: {known}",
            path="/documentType",
        )
    return model


def _schema_violation(type_id: str, error: ValidationError) -> SchemaViolation:
    errors = tuple(
        (json_pointer([str(segment) for segment in detail["loc"]]), detail["msg"])
        for detail in error.errors(include_url=False, include_input=False)
    )
    path, message = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return SchemaViolation(
        f"not a valid {type_id} document: {message}{more}", path=path, errors=errors
    )


def validate_document(value: JsonValue) -> ValidatedDocument:
    """Validate ``value`` against the schema its ``documentType`` names.

    ``value`` is expected to come from :func:`parse_strict_json` (which guarantees NFC
    text, safe integers and no duplicate keys); the schema checks the rest.
    Raises ``UnknownDocumentType`` or ``SchemaViolation`` (both ``InvalidDocument``).
    """
    if not isinstance(value, dict):
        raise InvalidDocument("a document is a JSON object", path="")
    model = _document_model(value)
    try:
        document = model.model_validate(value)
    except ValidationError as error:
        raise _schema_violation(model.TYPE_ID, error) from None
    data: JsonObject = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    return ValidatedDocument(
        model.TYPE_ID,
        data,
        document.document_number(),
        document.issuer_country(),
        document.addressee_countries(),
        document.issued_on(),
        document.valid_until(),
    )


def parse_document(raw: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ValidatedDocument:
    """Strictly parse ``raw`` and validate it as a document (see ``parse_strict_json``)."""
    return validate_document(parse_strict_json(raw, max_bytes=max_bytes))


def document_json_schema(type_id: str) -> JsonObject:
    """The JSON Schema (draft 2020-12) of a document type; a fresh object per call."""
    model = DOCUMENT_TYPES.get(type_id)
    if model is None:
        raise UnknownDocumentType(
            f"unknown document type {type_id!r}; known document types: {', '.join(DOCUMENT_TYPES)}"
        )
    schema: JsonObject = {
        "$schema": _JSON_SCHEMA_DIALECT,
        "$id": f"urn:docex:schema:{type_id}",
    }
    schema.update(model.model_json_schema(by_alias=True, mode="validation"))
    return schema
