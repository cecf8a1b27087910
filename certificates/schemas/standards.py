"""How docex fields map to the standards customs already use: ATIGA Form D, the UN/CEFACT
certificate of origin (as the UN/CEFACT-based CoO of edi3 and TradeTrust spells it), the
UNTP core vocabulary and the WCO Data Model; and where the VC export puts each field.

One row per docex field (a JSON Pointer with ``*`` for any array index). ``credential``
is the JSON Pointer of the field in an exported credential's ``credentialSubject`` (the
same ``*`` index); it follows the UN/CEFACT names where the UN/CEFACT column has one, and
keeps docex's own name otherwise. ``None`` in a standard's column: that standard has no
such field (or docex does not claim one). docs/standards.md is generated from this table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from certificates.json_types import JsonValue

__all__ = [
    "FIELD_MAPPINGS",
    "FieldMapping",
    "UnmappedField",
    "credential_path",
    "field_mapping",
    "iter_leaves",
    "mapping_table_markdown",
]


@dataclass(frozen=True, slots=True)
class FieldMapping:
    path: str
    """docex field, a JSON Pointer with ``*`` for any array index."""
    credential: str
    """Where the VC export puts it in ``credentialSubject`` (same ``*`` index)."""
    form_d: str | None = None
    uncefact: str | None = None
    untp: str | None = None
    wco: str | None = None


class UnmappedField(LookupError):
    """A docex field the mapping table has no row for (a schema grew, the table did not)."""


_SCC = "/supplyChainConsignment"
_ITEM = f"{_SCC}/includedConsignmentItems/*"
_LINE = f"{_ITEM}/tradeLineItems/0"


def _party(
    docex: str, credential: str, box: str | None, uncefact: str | None, wco: str | None
) -> tuple[FieldMapping, ...]:
    def u(member: str) -> str | None:
        return f"{uncefact}.{member}" if uncefact else None

    def w(member: str) -> str | None:
        return f"{wco}.{member}" if wco else None

    return (
        FieldMapping(
            f"{docex}/name", f"{credential}/name", box, u("name"), "Party.name", w("Name")
        ),
        FieldMapping(
            f"{docex}/address",
            f"{credential}/postalAddress/line1",
            box,
            u("postalAddress.line1 (whole address)"),
            "Party.partyAddress",
            w("Address.Line"),
        ),
        FieldMapping(
            f"{docex}/country",
            f"{credential}/postalAddress/countryCode",
            box,
            u("postalAddress.countryCode"),
            "Address.addressCountry",
            w("Address.CountryCode"),
        ),
        FieldMapping(
            f"{docex}/identifier", f"{credential}/iD", None, u("iD"), "Party.registeredId", w("ID")
        ),
    )


def _flag(name: str, box13: str) -> FieldMapping:
    return FieldMapping(f"/{name}", f"/{name}", f"Box 13: {box13}")


_COO_COMMON: Final = (
    FieldMapping("/documentType", "/documentType"),
    FieldMapping(
        "/certificateNumber",
        "/iD",
        "Reference No.",
        "iD",
        None,
        "AdditionalDocument.ID (type code 861, certificate of origin)",
    ),
    FieldMapping("/ftaForm", "/freeTradeAgreement", "form title (FORM D)"),
    FieldMapping("/issuingAuthority/name", "/issuer/name", "Box 12: certifying authority"),
    FieldMapping("/issuingAuthority/country", "/issuer/countryCode", 'Reference: "Issued in"'),
    *_party(
        "/exporter", f"{_SCC}/consignor", "Box 1", "supplyChainConsignment.consignor", "Exporter"
    ),
    *_party(
        "/producer",
        "/producer",
        "Box 11 (producer named in the declaration)",
        "includedConsignmentItems.manufacturer",
        "Manufacturer",
    ),
    FieldMapping(
        "/transport/departureDate",
        f"{_SCC}/mainCarriageTransportMovement/departureEvent/departureDateTime",
        "Box 3: departure date",
        "mainCarriageTransportMovement.departureEvent.departureDateTime",
        None,
        "BorderTransportMeans.DepartureDateTime",
    ),
    FieldMapping(
        "/transport/vesselOrFlight",
        f"{_SCC}/mainCarriageTransportMovement/usedTransportMeans/name",
        "Box 3: vessel's name / aircraft etc.",
        "mainCarriageTransportMovement.usedTransportMeans.name",
        None,
        "BorderTransportMeans.Name",
    ),
    FieldMapping(
        "/transport/portOfLoading/name",
        f"{_SCC}/loadingBaseportLocation/name",
        "Box 3",
        "loadingBaseportLocation.name",
        "Location.name",
        "Consignment.LoadingLocation.Name",
    ),
    FieldMapping(
        "/transport/portOfLoading/unLocode",
        f"{_SCC}/loadingBaseportLocation/iD",
        "Box 3",
        "loadingBaseportLocation.iD",
        "Location (UN/LOCODE)",
        "Consignment.LoadingLocation.ID",
    ),
    FieldMapping(
        "/transport/portOfDischarge/name",
        f"{_SCC}/unloadingBaseportLocation/name",
        "Box 3: port of discharge",
        "unloadingBaseportLocation.name",
        "Location.name",
        "Consignment.UnloadingLocation.Name",
    ),
    FieldMapping(
        "/transport/portOfDischarge/unLocode",
        f"{_SCC}/unloadingBaseportLocation/iD",
        "Box 3: port of discharge",
        "unloadingBaseportLocation.iD",
        "Location (UN/LOCODE)",
        "Consignment.UnloadingLocation.ID",
    ),
    FieldMapping(
        "/items/*/itemNumber",
        f"{_LINE}/sequenceNumber",
        "Box 5: item number",
        "tradeLineItems.sequenceNumber",
        None,
        "GovernmentAgencyGoodsItem.SequenceNumeric",
    ),
    FieldMapping(
        "/items/*/hsCode",
        f"{_LINE}/tradeProduct/harmonisedTariffCode/classCode",
        "Box 7: HS number",
        "tradeProduct.harmonisedTariffCode.classCode",
        "Classification.code (HS)",
        "Commodity.Classification.ID",
    ),
    FieldMapping(
        "/items/*/description",
        f"{_LINE}/tradeProduct/description",
        "Box 7: description of goods",
        "tradeProduct.description",
        "Product.description",
        "Commodity.Description",
    ),
    FieldMapping(
        "/items/*/marksAndPackages",
        f"{_LINE}/marksAndPackages",
        "Box 6: marks and numbers on packages",
        None,
        None,
        "Packaging.MarksNumbersID",
    ),
    FieldMapping(
        "/items/*/quantity/value",
        f"{_LINE}/quantity/value",
        "Box 7 / Box 9: quantity",
        None,
        "Measure.value",
        "GoodsMeasure.TariffQuantity",
    ),
    FieldMapping(
        "/items/*/quantity/unit",
        f"{_LINE}/quantity/unit",
        "Box 7 / Box 9: quantity",
        None,
        "Measure.unit",
        "GoodsMeasure.TariffQuantity unit",
    ),
    FieldMapping(
        "/items/*/grossWeight/value",
        f"{_LINE}/transportPackages/0/grossWeight/value",
        "Box 9: gross weight",
        "transportPackages.grossWeight",
        "Measure.value",
        "GoodsMeasure.GrossMassMeasure",
    ),
    FieldMapping(
        "/items/*/grossWeight/unit",
        f"{_LINE}/transportPackages/0/grossWeight/unit",
        "Box 9: gross weight",
        "transportPackages.grossWeight",
        "Measure.unit",
        "GoodsMeasure.GrossMassMeasure unit",
    ),
    FieldMapping(
        "/items/*/originCriterion",
        f"{_ITEM}/crossBorderRegulatoryProcedure/originCriteriaText",
        "Box 8: origin criterion",
        "includedConsignmentItems.crossBorderRegulatoryProcedure.originCriteriaText",
    ),
    FieldMapping("/items/*/fobValue/amount", f"{_LINE}/fobValue/amount", "Box 9: FOB value"),
    FieldMapping("/items/*/fobValue/currency", f"{_LINE}/fobValue/currency", "Box 9: FOB value"),
    FieldMapping(
        "/items/*/invoice/number",
        f"{_LINE}/invoiceReference/iD",
        "Box 10: number of invoice",
        "tradeLineItems.invoiceReference.iD",
        None,
        "AdditionalDocument.ID (type code 380, commercial invoice)",
    ),
    FieldMapping(
        "/items/*/invoice/date",
        f"{_LINE}/invoiceReference/issueDateTime",
        "Box 10: date of invoice",
        "tradeLineItems.invoiceReference.issueDateTime",
    ),
    FieldMapping(
        "/importingCountry",
        f"{_SCC}/importCountry/code",
        "Box 11: importing country",
        "supplyChainConsignment.importCountry",
        None,
        "Destination.CountryCode",
    ),
    FieldMapping("/issueDate", "/issueDateTime", "Box 12: date of certification", "issueDateTime"),
    FieldMapping(
        "/remarks", f"{_SCC}/information", "Box 7 / remarks", "supplyChainConsignment.information"
    ),
    _flag("backToBack", "Back-to-Back CO"),
    _flag("thirdPartyInvoicing", "Third Country Invoicing"),
    _flag("issuedRetroactively", "Issued Retroactively"),
)

_COO_1: Final = (
    *_COO_COMMON,
    *_party(
        "/importer",
        f"{_SCC}/consignee",
        "Box 2: goods consigned to",
        "supplyChainConsignment.consignee",
        "Importer",
    ),
)

_COO_2: Final = (
    *_COO_COMMON,
    *_party("/importer", f"{_SCC}/importer", "Box 2 when no consignee is given", None, "Importer"),
    *_party(
        "/consignee",
        f"{_SCC}/consignee",
        "Box 2: goods consigned to",
        "supplyChainConsignment.consignee",
        "Consignee",
    ),
    FieldMapping(
        "/transport/modeCode",
        f"{_SCC}/mainCarriageTransportMovement/modeCode",
        "Box 3",
        "mainCarriageTransportMovement.modeCode",
        None,
        "BorderTransportMeans.ModeCode",
    ),
    FieldMapping(
        "/items/*/packages/count",
        f"{_LINE}/transportPackages/0/quantity",
        "Box 7: number of packages",
        None,
        None,
        "Packaging.QuantityQuantity",
    ),
    FieldMapping(
        "/items/*/packages/kindCode",
        f"{_LINE}/transportPackages/0/typeCode",
        "Box 7: type of packages",
        None,
        None,
        "Packaging.TypeCode",
    ),
    FieldMapping(
        "/items/*/originCountry",
        f"{_LINE}/tradeProduct/originCountry/code",
        "Box 11: goods produced in",
        "tradeProduct.originCountry.code",
        "Product.countryOfProduction",
        "Origin.CountryCode",
    ),
    FieldMapping(
        "/thirdPartyOperator/name",
        "/thirdPartyOperator/name",
        "Box 7: invoicing company (third-country invoicing)",
    ),
    FieldMapping(
        "/thirdPartyOperator/country",
        "/thirdPartyOperator/countryCode",
        "Box 7: invoicing company's country",
    ),
    _flag("exhibition", "Exhibition"),
    _flag("deMinimis", "De Minimis"),
    _flag("accumulation", "Accumulation"),
    _flag("partialCumulation", "Partial Cumulation"),
)


def _same(
    path: str, uncefact: str | None = None, untp: str | None = None, wco: str | None = None
) -> FieldMapping:
    return FieldMapping(path, path, None, uncefact, untp, wco)


_GOODS_WCO = "GovernmentAgencyGoodsItem"


def _declarant(party: str) -> tuple[FieldMapping, ...]:
    """A party that the WCO Data Model holds as the declarant (permit holder, declarant)."""
    return tuple(
        _same(f"{party}/{member}", None, untp, f"Declarant.{wco}")
        for member, untp, wco in (
            ("name", "Party.name", "Name"),
            ("address", "Party.partyAddress", "Address.Line"),
            ("country", "Address.addressCountry", "Address.CountryCode"),
            ("identifier", "Party.registeredId", "ID"),
        )
    )


_PERMIT_1: Final = (
    _same("/documentType"),
    _same("/permitNumber", "iD", None, "AdditionalDocument.ID (licence)"),
    _same("/kind"),
    _same("/issuingMinistry/name", None, "Party.name", "AdditionalDocument.Submitter.Name"),
    _same("/issuingMinistry/country", None, "Address.addressCountry"),
    *_declarant("/holder"),
    _same(
        "/goods/*/hsCode",
        "tradeProduct.harmonisedTariffCode.classCode",
        "Classification.code (HS)",
        f"{_GOODS_WCO}.Commodity.Classification.ID",
    ),
    _same(
        "/goods/*/description",
        "tradeProduct.description",
        "Product.description",
        f"{_GOODS_WCO}.Commodity.Description",
    ),
    _same(
        "/goods/*/quantity/value",
        None,
        "Measure.value",
        "AdditionalDocument.WriteOff.QuantityQuantity",
    ),
    _same(
        "/goods/*/quantity/unit",
        None,
        "Measure.unit",
        "AdditionalDocument.WriteOff.QuantityQuantity unit",
    ),
    _same("/validity/validFrom", None, None, "AdditionalDocument.EffectiveDateTime"),
    _same("/validity/validUntil", None, None, "AdditionalDocument.ExpirationDateTime"),
    _same("/conditions/*"),
    _same("/issueDate", "issueDateTime", None, "AdditionalDocument.IssueDateTime"),
    _same("/addresseeCountries/*"),
)

_DECLARATION_1: Final = (
    _same("/documentType"),
    _same("/declarationNumber", None, None, "Declaration.ID"),
    _same("/kind", None, None, "Declaration.TypeCode (IM / EX)"),
    _same("/customsOffice/code", None, None, "Declaration.DeclarationOffice.ID"),
    _same("/customsOffice/name", None, None, "Declaration.DeclarationOffice.Name"),
    _same("/customsOffice/country", None, None, "Declaration.DeclarationOffice.CountryCode"),
    *_declarant("/declarant"),
    _same(
        "/items/*/itemNumber",
        "tradeLineItems.sequenceNumber",
        None,
        f"{_GOODS_WCO}.SequenceNumeric",
    ),
    _same(
        "/items/*/hsCode",
        "tradeProduct.harmonisedTariffCode.classCode",
        "Classification.code (HS)",
        f"{_GOODS_WCO}.Commodity.Classification.ID",
    ),
    _same(
        "/items/*/description",
        "tradeProduct.description",
        "Product.description",
        f"{_GOODS_WCO}.Commodity.Description",
    ),
    _same(
        "/items/*/quantity/value",
        None,
        "Measure.value",
        f"{_GOODS_WCO}.GoodsMeasure.TariffQuantity",
    ),
    _same(
        "/items/*/quantity/unit",
        None,
        "Measure.unit",
        f"{_GOODS_WCO}.GoodsMeasure.TariffQuantity unit",
    ),
    _same("/items/*/customsValue/amount", None, None, f"{_GOODS_WCO}.CustomsValueAmount"),
    _same(
        "/items/*/customsValue/currency", None, None, f"{_GOODS_WCO}.CustomsValueAmount currency"
    ),
    _same(
        "/items/*/originCountry",
        "tradeProduct.originCountry.code",
        "Product.countryOfProduction",
        f"{_GOODS_WCO}.Origin.CountryCode",
    ),
    _same("/references/*/documentType", None, None, "AdditionalDocument.TypeCode"),
    _same("/references/*/documentNumber", "ReferencedDocument.iD", None, "AdditionalDocument.ID"),
    _same("/references/*/issuingCountry", None, None, None),
    _same("/references/*/targetHash"),
    _same("/issueDate", None, None, "Declaration.IssueDateTime"),
    _same("/addresseeCountries/*"),
)

#: attached files (every type): UNTP's SecureLink (a link with a digest); the kind as the
#: UN/EDIFACT document name code (1001) WCO messages carry
_ATTACHMENTS: Final = (
    _same("/attachments/*/name", None, "SecureLink.linkName", "BinaryFile.Title"),
    _same(
        "/attachments/*/kind",
        "ReferencedDocument.typeCode",
        "SecureLink.linkType",
        "AdditionalDocument.TypeCode (380 invoice, 271 packing list, 705 bill of lading)",
    ),
    _same("/attachments/*/mediaType", None, None, "BinaryFile.MIMECode"),
    _same("/attachments/*/size"),
    _same("/attachments/*/sha256", None, "SecureLink.hashDigest (hashMethod SHA-256)"),
    _same("/attachments/*/cid", None, "SecureLink.linkURL (ipfs://CID)", "BinaryFile.URIID"),
)

#: The mapping of every field of every document type, by type id.
FIELD_MAPPINGS: Final[Mapping[str, tuple[FieldMapping, ...]]] = MappingProxyType(
    {
        "coo/1": (*_COO_1, *_ATTACHMENTS),
        "coo/2": (*_COO_2, *_ATTACHMENTS),
        "permit/1": (*_PERMIT_1, *_ATTACHMENTS),
        "declaration/1": (*_DECLARATION_1, *_ATTACHMENTS),
    }
)

_INDEX = re.compile(r"/\d+(?=/|$)")


def field_mapping(type_id: str, path: str) -> tuple[FieldMapping, tuple[str, ...]]:
    """The row for a concrete field path (``/items/3/hsCode``) and its array indexes."""
    pattern = _INDEX.sub("/*", path)
    for row in FIELD_MAPPINGS.get(type_id, ()):
        if row.path == pattern:
            return row, tuple(index[1:] for index in _INDEX.findall(path))
    raise UnmappedField(f"{type_id} field {path} has no row in the standards mapping")


def credential_path(row: FieldMapping, indexes: tuple[str, ...]) -> str:
    """``row.credential`` with each ``*`` replaced by the field's own array index."""
    parts = iter(indexes)
    return re.sub(r"\*", lambda _match: next(parts), row.credential)


def mapping_table_markdown(type_id: str) -> str:
    """The mapping of one type as a Markdown table (docs/standards.md, ``docex schema``)."""
    lines = [
        "| docex field | ATIGA Form D | UN/CEFACT CoO | UNTP | WCO Data Model | in the VC |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in FIELD_MAPPINGS[type_id]:
        cells = (row.form_d, row.uncefact, row.untp, row.wco)
        shown = " | ".join(cell or "-" for cell in cells)
        lines.append(f"| `{row.path}` | {shown} | `{row.credential}` |")
    return "\n".join(lines)


def iter_leaves(value: JsonValue, path: str = "") -> Iterator[tuple[str, JsonValue]]:
    """Every leaf of a document with its JSON Pointer (keys in docex are plain words).

    An empty list (``conditions: []``) has no leaf: it says nothing an absent one does not.
    """
    if isinstance(value, dict):
        for key, member in value.items():
            yield from iter_leaves(member, f"{path}/{key}")
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from iter_leaves(member, f"{path}/{index}")
    else:
        yield path, value
