"""The request bodies of the lifecycle and consortium endpoints, and how a strict JSON value
becomes one of them (a 422 problem listing every bad field, never FastAPI's parser)."""

from __future__ import annotations

from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from certificates.json_types import JsonValue
from node.consortium.commands import UINT32_MAX, UINT96_MAX
from node.errors import InvalidRequestBody
from node.http.plain_messages import plain_message


class _Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, alias_generator=to_camel, validate_by_name=False
    )


class RevokeBody(_Body):
    reason_code: int = Field(ge=0, le=UINT32_MAX, description="Why (recorded on chain)")


class RejectBody(_Body):
    reason_code: int = Field(ge=0, le=UINT32_MAX, description="Why (flows back to the issuer)")
    document: dict[str, Any] | None = Field(
        default=None,
        description="The wrapped document, for a document this node did not issue",
    )


class UseBody(_Body):
    declaration_reference: str = Field(
        min_length=1, max_length=256, description="The import declaration it is used against"
    )
    quantity: int = Field(default=1, ge=1, le=UINT96_MAX)
    allowed_quantity: int | None = Field(
        default=None,
        ge=1,
        le=UINT96_MAX,
        description="The document's total allowance (first use; default 1 for a single use)",
    )
    document: dict[str, Any] | None = Field(
        default=None,
        description="The wrapped document, for a document this node did not issue",
    )


Parsed = TypeVar("Parsed")


def _pointer(location: tuple[int | str, ...]) -> str:
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    return "/" + "/".join(parts) if parts else ""


def _untagged(location: tuple[int | str, ...], tag: object) -> tuple[int | str, ...]:
    """A discriminated union's error location without the variant's tag in front."""
    return location[1:] if location and tag is not None and location[0] == tag else location


def parse_body(adapter: TypeAdapter[Parsed], value: JsonValue) -> Parsed:
    """``value`` (already strictly parsed) as the adapter's type; else
    :class:`InvalidRequestBody` with every bad field."""
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        tag = value.get("action") if isinstance(value, dict) else None
        errors = tuple(
            (_pointer(_untagged(tuple(detail["loc"]), tag)), plain_message(detail))
            for detail in error.errors()
        )
        first_path, first_message = errors[0] if errors else ("", "invalid body")
        raise InvalidRequestBody(
            f"the request body is not valid: {first_message}", path=first_path, errors=errors
        ) from None


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {
            key: _inline(value, definitions)
            for key, value in node.items()
            if key not in ("$defs", "discriminator")
        }
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def request_body(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The OpenAPI request body for a type parsed by hand (self-contained, no $refs)."""
    schema = adapter.json_schema()
    return {
        "required": True,
        "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}},
    }


REVOKE: Final = TypeAdapter(RevokeBody)
REJECT: Final = TypeAdapter(RejectBody)
USE: Final = TypeAdapter(UseBody)


class ShareLinkBody(_Body):
    expires_in_days: int = Field(
        ge=1,
        le=3650,
        description="Days until the link stops working (at most the node's "
        "DOCEX_SHARE_LINK_MAX_DAYS, 90 by default)",
    )


SHARE_LINK: Final = TypeAdapter(ShareLinkBody)
