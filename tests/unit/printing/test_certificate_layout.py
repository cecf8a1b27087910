"""The printed forms: every field of the document, its anchoring facts and its link are
on the PDF (its text read back with pypdf), Vietnamese and Korean included; concealed
fields stay hidden; the same inputs print the same bytes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from adapters.printing import (
    DEBIAN_FONTS,
    AnchoringFacts,
    PrintingFontsMissing,
    UnprintableDocument,
    render_certificate,
)
from certificates.errors import Invalid
from certificates.json_types import JsonObject
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_document
from certificates.signing import Eip712Domain
from certificates.wrapped import WrappedDocument
from certificates.wrapping import wrap_batch

KEY = bytes(range(1, 33))
DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3"
)
FACTS = AnchoringFacts(
    tx_hash="0x" + "5a" * 32,
    block_number=4321,
    anchored_at=datetime(2026, 11, 24, 9, 30, 15, tzinfo=UTC),
)
KOREAN_IMPORTER = {
    "name": "주식회사 한빛무역",
    "address": "서울특별시 중구 세종대로 110\nSeoul 04524",
    "country": "KR",
}
VIETNAMESE_REMARK = "Hàng hóa được vận chuyển trực tiếp từ Việt Nam đến Hàn Quốc."


def coo_to_korea(items: int = 3) -> JsonObject:
    document = sample_document("coo/1", 4, items=items)
    document["importingCountry"] = "KR"
    document["importer"] = KOREAN_IMPORTER  # type: ignore[assignment]
    document["remarks"] = VIETNAMESE_REMARK
    return document


def wrapped(document: JsonObject) -> dict[str, Any]:
    batch = wrap_batch([validate_document(document)], signing_key=KEY, domain=DOMAIN)
    result: dict[str, Any] = json.loads(json.dumps(next(iter(batch)).to_json()))
    return result


def link_of(wrapped_json: dict[str, Any]) -> str:
    return f"https://customs.example.vn/v/{wrapped_json['targetHash']}"


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """Text without white space: table cells wrap long values onto several lines."""
    return "".join(text.split())


def test_a_certificate_of_origin_prints_every_box_of_the_form() -> None:
    document = coo_to_korea()
    wrapped_json = wrapped(document)

    pdf = render_certificate(wrapped_json, FACTS, link_of(wrapped_json))

    assert pdf.startswith(b"%PDF-")
    text = squeezed(pdf_text(pdf))
    expected: list[Any] = [
        "CERTIFICATE OF ORIGIN",
        document["certificateNumber"],
        document["ftaForm"],
        document["issuingAuthority"]["name"],  # type: ignore[index,call-overload]
        document["exporter"]["name"],  # type: ignore[index,call-overload]
        document["exporter"]["identifier"],  # type: ignore[index,call-overload]
        KOREAN_IMPORTER["name"],
        "서울특별시 중구 세종대로 110",
        document["transport"]["vesselOrFlight"],  # type: ignore[index,call-overload]
        document["transport"]["departureDate"],  # type: ignore[index,call-overload]
        document["transport"]["portOfLoading"]["unLocode"],  # type: ignore[index,call-overload]
        document["transport"]["portOfDischarge"]["name"],  # type: ignore[index,call-overload]
        document["issueDate"],
        VIETNAMESE_REMARK,
        "Certification by the issuing authority",
    ]
    for item in document["items"]:  # type: ignore[union-attr]
        expected += [
            item["hsCode"],  # type: ignore[index,call-overload]
            item["description"],  # type: ignore[index,call-overload]
            item["originCriterion"],  # type: ignore[index,call-overload]
            f"{item['quantity']['value']} {item['quantity']['unit']}",  # type: ignore[index,call-overload]
            f"FOB {item['fobValue']['currency']} {item['fobValue']['amount']}",  # type: ignore[index,call-overload]
            item["invoice"]["number"],  # type: ignore[index,call-overload]
            item["invoice"]["date"],  # type: ignore[index,call-overload]
        ]
    missing = [value for value in expected if squeezed(str(value)) not in text]
    assert missing == []


def test_the_anchoring_facts_and_link_are_printed_in_small_type() -> None:
    wrapped_json = wrapped(coo_to_korea())
    link = link_of(wrapped_json)

    text = squeezed(pdf_text(render_certificate(wrapped_json, FACTS, link)))

    for fact in (
        link,
        wrapped_json["targetHash"],
        wrapped_json["batch"]["root"],
        FACTS.tx_hash,
        "block4321",
        "2026-11-2409:30:15UTC",
        wrapped_json["signature"]["signer"],
        "chainid31337",
    ):
        assert squeezed(fact) in text


def test_korean_and_vietnamese_text_is_drawn_with_embedded_fonts() -> None:
    wrapped_json = wrapped(coo_to_korea())

    reader = PdfReader(io.BytesIO(render_certificate(wrapped_json, FACTS, link_of(wrapped_json))))

    fonts = set()
    for page in reader.pages:
        resources = page["/Resources"]["/Font"]
        for reference in resources.values():
            font = reference.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # the TrueType program is embedded
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert {"DejaVuSansBook", "NanumGothic"} <= fonts


def test_a_permit_prints_holder_goods_validity_and_conditions() -> None:
    document = sample_document("permit/1", 2)
    document["conditions"] = ["Chỉ nhập khẩu qua cửa khẩu Cát Lái."]
    wrapped_json = wrapped(document)

    text = squeezed(pdf_text(render_certificate(wrapped_json, FACTS, link_of(wrapped_json))))

    expected: list[Any] = [
        "PERMIT",
        document["permitNumber"],
        document["issuingMinistry"]["name"],  # type: ignore[index,call-overload]
        document["holder"]["name"],  # type: ignore[index,call-overload]
        document["validity"]["validFrom"],  # type: ignore[index,call-overload]
        document["validity"]["validUntil"],  # type: ignore[index,call-overload]
        "Chỉ nhập khẩu qua cửa khẩu Cát Lái.",
        wrapped_json["targetHash"],
    ]
    for goods in document["goods"]:  # type: ignore[union-attr]
        expected += [goods["hsCode"], goods["description"], goods["quantity"]["value"]]  # type: ignore[index,call-overload]
    assert [value for value in expected if squeezed(str(value)) not in text] == []


def test_a_declaration_prints_in_a_plain_layout() -> None:
    document = sample_document("declaration/1", 3)
    wrapped_json = wrapped(document)

    text = squeezed(pdf_text(render_certificate(wrapped_json, FACTS, link_of(wrapped_json))))

    assert squeezed("CUSTOMS DECLARATION") in text
    assert squeezed(str(document["declarationNumber"])) in text
    assert squeezed(str(document["declarant"]["name"])) in text  # type: ignore[index,call-overload]
    for item in document["items"]:  # type: ignore[union-attr]
        assert squeezed(str(item["hsCode"])) in text  # type: ignore[index,call-overload]


def test_a_concealed_field_prints_as_concealed_and_its_value_nowhere() -> None:
    document = coo_to_korea()
    wrapped_json = wrapped(document)
    concealed = WrappedDocument.from_json(wrapped_json).conceal(["/importer/address"]).to_json()
    concealed_json: dict[str, Any] = json.loads(json.dumps(concealed))

    text = pdf_text(render_certificate(concealed_json, FACTS, link_of(concealed_json)))

    assert "[concealed]" in text
    assert "세종대로" not in text
    assert KOREAN_IMPORTER["name"] in text
    assert "/importer/address" in text  # listed among the concealed fields in the footer


def test_the_same_document_prints_the_same_bytes() -> None:
    wrapped_json = wrapped(coo_to_korea())
    link = link_of(wrapped_json)

    first = render_certificate(wrapped_json, FACTS, link)

    assert render_certificate(wrapped_json, FACTS, link) == first
    assert render_certificate(wrapped_json, FACTS, link + "x") != first


def test_many_items_run_onto_pages_that_each_carry_the_facts() -> None:
    wrapped_json = wrapped(coo_to_korea(items=60))

    reader = PdfReader(io.BytesIO(render_certificate(wrapped_json, FACTS, link_of(wrapped_json))))

    assert len(reader.pages) > 1
    texts = [squeezed(page.extract_text()) for page in reader.pages]
    for number, text in enumerate(texts, 1):
        assert wrapped_json["targetHash"] in text
        assert f"Page{number}of{len(reader.pages)}" in text
    # the item table's headings repeat on every page it runs onto
    assert sum("5.Item" in text for text in texts) >= 2


def test_a_document_type_without_a_form_is_refused() -> None:
    wrapped_json = wrapped(coo_to_korea())
    wrapped_json["batch"]["documentType"] = "invoice/1"

    with pytest.raises(UnprintableDocument, match="invoice/1"):
        render_certificate(wrapped_json, FACTS, link_of(wrapped_json))


def test_something_that_is_not_a_wrapped_document_is_refused() -> None:
    with pytest.raises(UnprintableDocument) as raised:
        render_certificate({"version": "docex-wrapped/1"}, FACTS, "https://x.example/v/1")
    assert isinstance(raised.value, Invalid)


def test_missing_fonts_are_named_with_their_package(tmp_path: Path) -> None:
    fonts = type(DEBIAN_FONTS)(
        text=tmp_path / "DejaVuSans.ttf",
        text_bold=DEBIAN_FONTS.text_bold,
        mono=DEBIAN_FONTS.mono,
        fallback=DEBIAN_FONTS.fallback,
        fallback_bold=DEBIAN_FONTS.fallback_bold,
    )
    wrapped_json = wrapped(coo_to_korea())

    with pytest.raises(PrintingFontsMissing, match="fonts-dejavu-core"):
        render_certificate(wrapped_json, FACTS, link_of(wrapped_json), fonts=fonts)
