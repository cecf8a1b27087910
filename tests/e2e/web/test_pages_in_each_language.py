"""The verifier and issuer pages in English, Vietnamese and Korean, in chromium against a
running node: the language follows the browser's Accept-Language and the page's switch
(remembered across visits); docex's own words come from that language's catalogue, the
document's field values are shown as issued; on a phone the verdict is on the first
screen. A revoked document shows its date and reason, a printed certificate uploaded as a
PDF is verified by the link it carries. Screenshots of each language at desktop and
phone sizes go to ``tests/artifacts/web/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.languages import LANGUAGES, Messages

from .test_pages_in_a_browser import (
    CHECKS,
    PHONE,
    anchored_certificate,
    assert_above_the_fold,
    check_statuses,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
#: a browser locale per language: what chromium sends as Accept-Language
LOCALES = {"en": "en-GB", "vi": "vi-VN", "ko": "ko-KR"}


def wait_for_status(
    client: httpx.Client, target_hash: str, code: str, timeout: float = 60
) -> dict[str, Any]:
    """The node's verdict on ``target_hash`` once its status check reads ``code`` (the
    node's index follows the chain every ``DOCEX_INDEX_POLL_MS``)."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        verdict: dict[str, Any] = client.get(f"/v1/verify/{target_hash}").json()
        status = next(c for c in verdict["checks"] if c["name"] == "status")
        if status["code"] == code:
            return verdict
        time.sleep(0.2)
    raise AssertionError(f"the status never read {code}: {status}")


@pytest.fixture(scope="module")
def certificate(vn_node: Any) -> dict[str, Any]:
    return anchored_certificate(vn_node, 21)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_qr_link_opens_the_verdict_in_the_browsers_language(
    vn_node: Any,
    browser: Any,
    screenshots: Path,
    certificate: dict[str, Any],
    language: str,
    size: str,
) -> None:
    t = Messages(language)
    viewport = PHONE if size == "phone" else DESKTOP
    context = browser.new_context(locale=LOCALES[language], viewport=viewport)
    page = context.new_page()

    page.goto(f"{vn_node.base}/v/{certificate['targetHash']}")
    page.wait_for_selector(f"html[data-language='{language}']")

    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    assert page.evaluate("document.documentElement.lang") == language
    assert t("verdict.valid") in page.locator("#verdict").inner_text()
    page.locator("#history li").first.wait_for()
    # docex's own words in the language: check names, reasons, labels, the type in words
    for name in CHECKS:
        item = page.locator(f"#checks li[data-check='{name}']").inner_text()
        assert t(f"check.{name}") in item, (language, name)
    issuance = page.locator("#checks li[data-check='issuance'] .reason").inner_text()
    assert issuance == t("code.anchored")
    assert page.locator("h1").inner_text() == t("verify.title")
    assert t("event.BatchAnchored") in page.locator("#history").inner_text()
    # a QR code's link carries only the target hash: the verdict shows no field of the
    # document (ADR 0023); its holder presents the file to see them verified
    data = certificate["document"]["data"]
    shown = page.locator("body").inner_text()
    for field in (
        data["certificateNumber"],
        data["exporter"]["name"],
        data["items"][0]["description"],
    ):
        assert field not in shown, (language, field)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert_above_the_fold(page)
    page.screenshot(path=str(screenshots / f"verify-{language}-{size}.png"))
    page.screenshot(path=str(screenshots / f"verify-{language}-{size}-full.png"), full_page=True)
    context.close()


def test_the_language_switch_is_remembered(
    vn_node: Any, browser: Any, certificate: dict[str, Any]
) -> None:
    korean, vietnamese = Messages("ko"), Messages("vi")
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{vn_node.base}/verify?ref={certificate['targetHash']}")
    check_statuses(page)
    assert page.evaluate("document.documentElement.lang") == "en"

    page.get_by_label("Language").select_option("ko")

    page.wait_for_selector("html[data-language='ko']")
    assert korean("verdict.valid") in page.locator("#verdict").inner_text()
    assert korean("check.integrity") in page.locator("#checks").inner_text()
    # remembered: the issuer page and a later visit open in Korean, despite Accept-Language
    page.goto(f"{vn_node.base}/issue")
    page.wait_for_selector("html[data-language='ko']")
    assert page.locator("h1").inner_text() == korean("issue.title")
    assert page.get_by_label(korean("issue.token")).is_visible()
    page.get_by_label(korean("language.label")).select_option("vi")
    page.wait_for_selector("html[data-language='vi']")
    page.goto(f"{vn_node.base}/verify")
    page.wait_for_selector("html[data-language='vi']")
    assert page.get_by_role("button", name=vietnamese("verify.refButton")).is_visible()
    context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_issuer_page_in_each_language(
    vn_node: Any, browser: Any, screenshots: Path, language: str
) -> None:
    t = Messages(language)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(locale=LOCALES[language], viewport=viewport)
        page = context.new_page()
        page.goto(f"{vn_node.base}/issue")
        page.wait_for_selector(f"html[data-language='{language}']")
        page.locator("#type option").first.wait_for(state="attached")

        assert page.locator("h1").inner_text() == t("issue.title")
        assert page.get_by_role("button", name=t("issue.submit")).is_visible()
        assert t("type.coo/1") in page.locator("#type").inner_text()
        page.screenshot(path=str(screenshots / f"issue-{language}-{size}.png"), full_page=True)
        context.close()


def test_a_revoked_certificate_shows_when_and_why(
    vn_node: Any, browser: Any, screenshots: Path
) -> None:
    receipt = anchored_certificate(vn_node, 22)
    with httpx.Client(base_url=vn_node.base, timeout=60) as client:
        revoked = client.post(
            f"/v1/documents/{receipt['id']}/revoke",
            json={"reasonCode": 12},
            headers={"Authorization": f"Bearer {vn_node.token}"},
        )
        assert revoked.status_code == 200, revoked.text
        # the revocation is mined; the page shows it once the node's index follows
        wait_for_status(client, receipt["targetHash"], "revoked")
    for language in LANGUAGES:
        t = Messages(language)
        context = browser.new_context(locale=LOCALES[language], viewport=PHONE)
        page = context.new_page()

        page.goto(f"{vn_node.base}/v/{receipt['targetHash']}")
        page.wait_for_selector(f"html[data-language='{language}']")

        page.wait_for_selector("#checks li[data-check='status'][data-code='revoked']")
        notice = page.locator("#status-notice")
        notice.wait_for()
        assert notice.get_attribute("data-code") == "revoked"
        assert t("reason.12") in notice.inner_text()
        assert "20" in notice.inner_text()  # the year of the revocation's date
        assert t("code.revoked") in page.locator("#verdict-detail").inner_text()
        assert t("event.DocumentRevoked") in page.locator("#history").inner_text()
        assert_above_the_fold(page)
        page.screenshot(path=str(screenshots / f"verify-revoked-{language}-phone.png"))
        context.close()


def test_a_printed_certificate_uploaded_is_verified_by_its_link(
    vn_node: Any, browser: Any, screenshots: Path, certificate: dict[str, Any], tmp_path: Path
) -> None:
    with httpx.Client(base_url=vn_node.base, timeout=60) as client:
        printed = client.get(
            f"/v1/documents/{certificate['id']}/certificate.pdf",
            params={"lang": "ko"},
            headers={"Authorization": f"Bearer {vn_node.token}"},
        )
    assert printed.status_code == 200
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(printed.content)
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{vn_node.base}/verify")

    page.set_input_files("#file", str(pdf))
    page.get_by_role("button", name="Verify the file").click()

    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    assert certificate["targetHash"] in page.locator("#source-note").inner_text()
    assert "UTF-8" not in page.locator("#result").inner_text()
    page.screenshot(path=str(screenshots / "verify-printed-pdf.png"), full_page=True)

    # a PDF without a docex link: how to verify a printed certificate instead
    other = tmp_path / "scan.pdf"
    other.write_bytes(b"%PDF-1.4\n% a scanned page\n%%EOF\n")
    page.set_input_files("#file", str(other))
    page.get_by_role("button", name="Verify the file").click()
    page.wait_for_selector("#verdict.invalid")
    assert "QR code" in page.locator("#verdict-detail").inner_text()

    # neither a PDF nor JSON: what the page expects, not a parser's complaint
    garbage = tmp_path / "photo.jpg"
    garbage.write_bytes(bytes([0xFF, 0xD8, 0xFF, 0xE0]) + b"\x00" * 64)
    page.set_input_files("#file", str(garbage))
    page.get_by_role("button", name="Verify the file").click()
    page.wait_for_selector("#verdict-detail:has-text('not JSON')")
    assert "UTF-8" not in page.locator("#verdict-detail").inner_text()
    page.close()


def test_an_amended_certificate_shows_when_and_its_replacement(
    vn_node: Any, browser: Any, screenshots: Path
) -> None:
    receipt = anchored_certificate(vn_node, 23)
    replacement = dict(receipt["document"]["data"])
    replacement["remarks"] = "Amended: corrected gross weight."
    auth = {"Authorization": f"Bearer {vn_node.token}"}
    with httpx.Client(base_url=vn_node.base, timeout=60) as client:
        amended = client.post(
            f"/v1/documents/{receipt['id']}/amend", json=replacement, headers=auth
        )
        assert amended.status_code == 202, amended.text
        verdict = wait_for_status(client, receipt["targetHash"], "superseded", timeout=120)
    successor = verdict["supersededBy"]["targetHash"]
    t = Messages("vi")
    context = browser.new_context(locale="vi-VN", viewport=PHONE)
    page = context.new_page()

    page.goto(f"{vn_node.base}/v/{receipt['targetHash']}")
    page.wait_for_selector("html[data-language='vi']")

    notice = page.locator("#status-notice")
    notice.wait_for()
    assert notice.get_attribute("data-code") == "superseded"
    assert t("notice.superseded").split("{date}")[0].strip() in notice.inner_text()
    assert page.locator("#replacement-link").inner_text() == successor
    assert t("event.DocumentSuperseded") in page.locator("#history").inner_text()
    assert_above_the_fold(page)
    page.screenshot(path=str(screenshots / "verify-amended-vi-phone.png"))
    page.locator("#replacement-link").click()
    page.wait_for_url(f"**/verify?ref={successor}")
    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    context.close()


def test_the_folded_forms_open_from_the_keyboard(
    vn_node: Any, browser: Any, certificate: dict[str, Any]
) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{vn_node.base}/v/{certificate['targetHash']}")
    check_statuses(page)
    assert not page.locator("#ref").is_visible()

    page.locator("#inputs-box > summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")

    assert page.locator("#inputs-box").get_attribute("open") is not None
    assert page.evaluate("document.activeElement.id") == "ref"
    assert page.locator("#ref").input_value() == certificate["targetHash"]
    page.close()
