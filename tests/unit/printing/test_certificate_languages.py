"""A certificate printed in Vietnamese, Korean or English: docex's own words (box titles,
labels, footer) come from the language's catalogue, read back from the PDF with pypdf;
the document's field values are printed as issued, never translated; the verification
link is in the PDF's document information, where a verifier page given the PDF finds it."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from adapters.languages import LANGUAGES, Messages, catalogue
from adapters.printing import render_certificate
from certificates.schemas.samples import sample_document

from .test_certificate_layout import (
    FACTS,
    KOREAN_IMPORTER,
    VIETNAMESE_REMARK,
    coo_to_korea,
    link_of,
    pdf_text,
    squeezed,
    wrapped,
)

#: a few of docex's own words per language, as each catalogue says them
OWN_WORDS = {
    "en": ["CERTIFICATE OF ORIGIN", "Goods consigned from", "Scan to verify", "Page 1 of"],
    "vi": ["GIẤY CHỨNG NHẬN XUẤT XỨ", "Hàng gửi từ", "Quét để xác minh", "Trang 1 / "],
    "ko": ["원산지증명서", "발송인", "스캔하여 검증", "1 / 1 쪽"],
}


def test_every_language_has_every_key_of_the_english_catalogue() -> None:
    english = set(catalogue("en"))
    for language in LANGUAGES:
        assert set(catalogue(language)) == english, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_certificate_of_origin_prints_in_each_language(language: str) -> None:
    wrapped_json = wrapped(coo_to_korea(items=2))
    t = Messages(language)

    text = pdf_text(
        render_certificate(wrapped_json, FACTS, link_of(wrapped_json), language=language)
    )

    for words in OWN_WORDS[language]:
        assert squeezed(words) in squeezed(text), (language, words)
    assert squeezed(t("print.coo.box12")) in squeezed(text)
    # the field values as issued, whatever the language
    assert squeezed(KOREAN_IMPORTER["name"]) in squeezed(text)
    assert squeezed(VIETNAMESE_REMARK) in squeezed(text)
    assert wrapped_json["targetHash"] in squeezed(text)


@pytest.mark.parametrize("type_id", ["permit/1", "declaration/1"])
@pytest.mark.parametrize("language", ["vi", "ko"])
def test_permits_and_declarations_print_their_labels_in_the_language(
    type_id: str, language: str
) -> None:
    wrapped_json = wrapped(sample_document(type_id, 2))
    t = Messages(language)

    text = squeezed(
        pdf_text(render_certificate(wrapped_json, FACTS, link_of(wrapped_json), language=language))
    )

    assert squeezed(t("print.hsCode")) in text
    assert squeezed(t("print.footer.targetHash")) in text
    assert "Permitholder" not in text
    assert "Declarant(" not in text
    assert "Targethash" not in text


def test_the_link_is_in_the_document_information() -> None:
    wrapped_json = wrapped(coo_to_korea(items=1))
    link = link_of(wrapped_json)

    pdf = render_certificate(wrapped_json, FACTS, link, language="ko")

    assert PdfReader(io.BytesIO(pdf)).metadata.subject == link
    # readable as bytes too, as the verifier page reads it (no PDF library in the browser)
    found = re.search(rb"/v/(0x[0-9a-f]{64})", pdf)
    assert found is not None
    assert found.group(1).decode() == wrapped_json["targetHash"]
