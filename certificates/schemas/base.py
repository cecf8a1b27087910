"""The pydantic base classes every document model is built from.

Models are strict (no coercion: ``"1"`` is not ``1``), closed (unknown fields are
errors), frozen, and speak camelCase JSON. An optional field may be *omitted*, never
``null``: a document has exactly one JSON form (see docs/documents.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from typing import Annotated, Any, ClassVar, Final, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo
from pydantic_core import PydanticCustomError

__all__ = ["DocumentModel", "Omittable", "StrictModel"]

T = TypeVar("T")


_ACRONYMS: Final = {"hs": "HS", "fob": "FOB", "fta": "FTA", "un": "UN"}


def _title(field_name: str, _info: FieldInfo | ComputedFieldInfo) -> str:
    words = [_ACRONYMS.get(word, word) for word in field_name.strip("_").split("_")]
    return " ".join([words[0][0].upper() + words[0][1:], *words[1:]])


def _reject_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("null_not_allowed", "null is not allowed: omit the field instead")
    return value


def _without_null(schema: dict[str, Any]) -> None:
    """Make the JSON Schema of ``T | None`` say what is accepted: ``T`` (or nothing)."""
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:  # pragma: no cover - no Omittable of a union yet
        schema["anyOf"] = branches


# Plain ``T | None`` (not ``SkipJsonSchema``, which turns it into a tagged union whose
# tags would appear in error paths); the JSON Schema is fixed up by ``_without_null``.
#: An optional field: absent or a ``T``, never ``null`` (and the JSON Schema says so).
Omittable = Annotated[
    T | None,
    BeforeValidator(_reject_null),
    Field(json_schema_extra=_without_null),
]


class StrictModel(BaseModel):
    """A closed, strict, frozen, camelCase JSON object."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        serialize_by_alias=True,
        extra="forbid",
        strict=True,
        frozen=True,
        use_attribute_docstrings=True,
        field_title_generator=_title,
        regex_engine="rust-regex",
    )


class DocumentModel(StrictModel, ABC):
    """A document type: what every type-specific model answers about itself."""

    #: The versioned type id, e.g. ``coo/1``; equals the model's ``documentType``.
    TYPE_ID: ClassVar[str]

    @abstractmethod
    def document_number(self) -> str:
        """The number the issuer gave the document (unique per issuer and type)."""

    @abstractmethod
    def issuer_country(self) -> str:
        """ISO 3166-1 alpha-2 code of the issuing administration's country."""

    @abstractmethod
    def addressee_countries(self) -> tuple[str, ...]:
        """Countries the document is addressed to: sorted, unique, possibly empty."""

    @abstractmethod
    def issued_on(self) -> date:
        """The issue date the issuer signed."""

    def valid_until(self) -> date | None:
        """The last day of the validity the issuer signed; None: no end is signed."""
        return None
