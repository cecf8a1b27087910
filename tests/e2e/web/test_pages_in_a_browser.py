"""The verifier and issuer pages in chromium against a running node: a valid certificate
shows every check green, a tampered one shows integrity red, a ``/v/{ref}`` link (what a
QR code carries) opens the verdict, and an issuer issues a document from the page."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from certificates.schemas.samples import sample_document

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = ["integrity", "signature", "issuance", "issuer", "status", "recognition"]
PHONE = {"width": 390, "height": 844}


def anchored_certificate(node: Any, index: int) -> dict[str, Any]:
    """A certificate of origin issued through the API with the sample token; its anchored
    receipt."""
    auth = {"Authorization": f"Bearer {node.token}"}
    with httpx.Client(base_url=node.base, timeout=30) as client:
        accepted = client.post("/v1/documents", json=sample_document("coo/1", index), headers=auth)
        assert accepted.status_code == 202, accepted.text
        url = accepted.headers["location"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            receipt: dict[str, Any] = client.get(url, headers=auth).json()
            if receipt["status"] == "anchored":
                return receipt
            time.sleep(0.2)
    raise AssertionError("the certificate was never anchored")


def assert_above_the_fold(page: Any) -> None:
    """The verdict and its sentence lie wholly within the first screen, unscrolled."""
    assert page.evaluate("window.scrollY") == 0
    viewport = page.viewport_size
    for selector in ("#verdict", "#verdict-detail"):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0, selector
        assert box["y"] + box["height"] <= viewport["height"], (selector, box)
        assert box["x"] + box["width"] <= viewport["width"], (selector, box)


def check_statuses(page: Any) -> dict[str, str]:
    page.wait_for_selector("#checks li.check")
    items = page.locator("#checks li.check")
    return {
        str(items.nth(i).get_attribute("data-check")): str(
            items.nth(i).get_attribute("data-status")
        )
        for i in range(items.count())
    }


def test_a_valid_and_a_tampered_certificate_uploaded_on_the_verifier_page(
    vn_node: Any, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    receipt = anchored_certificate(vn_node, 1)
    valid_file = tmp_path / "certificate.json"
    valid_file.write_text(json.dumps(receipt["document"]))
    tampered = json.loads(json.dumps(receipt["document"]))
    tampered["data"]["exporter"]["name"] += "."
    tampered_file = tmp_path / "tampered.json"
    tampered_file.write_text(json.dumps(tampered))
    page = browser.new_page()

    response = page.goto(f"{vn_node.base}/verify")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    page.set_input_files("#file", str(valid_file))
    page.get_by_role("button", name="Verify the file").click()

    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    assert page.locator("#verdict").inner_text().endswith("Valid document")
    page.wait_for_selector("#history li[data-event='BatchAnchored']")
    # the technical facts are one click away: in a closed details element
    assert receipt["targetHash"] in str(page.locator("#document").text_content())
    assert not page.locator("#document").is_visible()
    certificate = page.locator("#certificate").inner_text()
    form = receipt["document"]["data"]["ftaForm"]
    assert f"Certificate of origin ({form})" in certificate
    assert receipt["document"]["data"]["certificateNumber"] in certificate
    assert receipt["document"]["data"]["exporter"]["name"] in certificate
    assert "coo/1" not in certificate
    assert not page.locator("#fields").is_visible()  # no raw JSON unless asked for
    issuance = page.locator("#checks li[data-check='issuance']")
    assert issuance.get_attribute("data-code") == "anchored"
    # the anchoring shown comes from the issuance check, read because its code is anchored
    assert "not recorded" not in str(page.locator("#document").text_content())
    assert not page.locator("#document-note").is_visible()
    page.screenshot(path=str(screenshots / "verify-valid.png"), full_page=True)

    page.set_input_files("#file", str(tampered_file))
    page.get_by_role("button", name="Verify the file").click()
    page.wait_for_selector("#checks li[data-check='integrity'][data-status='invalid']")

    statuses = check_statuses(page)
    assert statuses["integrity"] == "invalid"
    assert "Not valid" in page.locator("#verdict").inner_text()
    assert "altered" in page.locator("#checks li[data-check='integrity']").inner_text()
    integrity = page.locator("#checks li[data-check='integrity']")
    assert integrity.get_attribute("data-code") == "target-hash-mismatch"
    assert page.locator("#document-note").is_visible()
    # the node holds the original but shows none of its fields to whoever knows its
    # target hash (ADR 0023): a forged copy must not reveal the original's values
    page.wait_for_function(
        "document.getElementById('changed-intro').textContent.includes('not public')"
    )
    assert not page.locator("#changed-fields").is_visible()
    assert page.locator("#changed-rows tr").count() == 0
    page.screenshot(path=str(screenshots / "verify-tampered.png"), full_page=True)
    page.close()


def test_a_short_link_opens_the_verdict_on_a_phone_screen(
    vn_node: Any, browser: Any, screenshots: Path
) -> None:
    receipt = anchored_certificate(vn_node, 2)
    page = browser.new_page(viewport=PHONE)

    page.goto(f"{vn_node.base}/v/{receipt['targetHash']}")

    assert page.url.endswith(f"/verify?ref={receipt['targetHash']}")
    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    assert page.locator("#history li").first.get_attribute("data-event") == "BatchAnchored"
    assert "VN" in page.locator("#certificate").inner_text()
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # the verdict is on the first screen, the forms folded below it
    assert_above_the_fold(page)
    assert page.locator("#inputs-box").get_attribute("open") is None
    page.screenshot(path=str(screenshots / "verify-link-phone.png"), full_page=True)
    page.close()


def test_the_verifier_page_works_from_the_keyboard(vn_node: Any, browser: Any) -> None:
    receipt = anchored_certificate(vn_node, 3)
    page = browser.new_page()
    page.goto(f"{vn_node.base}/verify")

    page.get_by_label("Target hash, receipt id or CID").focus()
    page.keyboard.type(receipt["targetHash"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Verify the reference"
    page.keyboard.press("Enter")

    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")
    # the verdict takes the focus, so that a screen reader reads it next
    assert page.evaluate("document.activeElement.id") == "result"
    page.close()


def test_an_issuer_issues_a_document_from_the_issuer_page(
    vn_node: Any, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page()
    page.goto(f"{vn_node.base}/issue")

    page.get_by_label("Your access token").fill(vn_node.token)
    page.get_by_label("Sample of type").select_option("coo/1")
    page.get_by_role("button", name="Load the sample").click()
    assert json.loads(page.get_by_label("Document (JSON)").input_value())["documentType"] == (
        "coo/1"
    )
    page.get_by_role("button", name="Issue the document").click()
    page.wait_for_selector("#verify-link", timeout=90_000)

    assert page.locator("#outcome-title").inner_text().startswith("Anchored")
    page.screenshot(path=str(screenshots / "issue-anchored.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#certificate-link").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    page.locator("#verify-link").click()
    assert check_statuses(page) == dict.fromkeys(CHECKS, "valid")


def test_a_wrong_token_on_the_issuer_page_says_why(vn_node: Any, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{vn_node.base}/issue")

    page.get_by_label("Your access token").fill("dx_not-a-token")
    page.get_by_role("button", name="Load the sample").click()
    page.get_by_role("button", name="Issue the document").click()
    page.wait_for_selector("#outcome-title.problem")

    assert "token" in page.locator("#progress").inner_text()
    page.close()
