"""Document types: pydantic models per versioned type id, validation and JSON Schema.

Other layers use only what is exported here; the models' modules are importable for
type annotations (``from certificates.schemas.coo import CertificateOfOrigin``).
"""

from certificates.schemas.base import DocumentModel
from certificates.schemas.coo import CertificateOfOrigin
from certificates.schemas.coo_v2 import CertificateOfOriginV2
from certificates.schemas.declaration import Declaration
from certificates.schemas.permit import Permit
from certificates.schemas.standards import FIELD_MAPPINGS, FieldMapping, mapping_table_markdown
from certificates.schemas.validation import (
    DOCUMENT_TYPES,
    ValidatedDocument,
    document_json_schema,
    parse_document,
    validate_document,
)

__all__ = [
    "DOCUMENT_TYPES",
    "FIELD_MAPPINGS",
    "CertificateOfOrigin",
    "CertificateOfOriginV2",
    "Declaration",
    "DocumentModel",
    "FieldMapping",
    "Permit",
    "ValidatedDocument",
    "document_json_schema",
    "mapping_table_markdown",
    "parse_document",
    "validate_document",
]
