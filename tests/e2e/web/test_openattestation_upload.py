"""A TradeTrust (OpenAttestation v2) certificate, made at test time by OA's own npm
library, uploaded on the verifier page in chromium: the page shows OA's checks with
their verdict; the same certificate with one value changed shows the target hash red."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# ``run_reference`` (OA's npm library, run with node) from the standards tests' conftest
_spec = importlib.util.spec_from_file_location(
    "web_standards_fixtures", Path(__file__).parents[2] / "integration" / "conftest.py"
)
assert _spec is not None
assert _spec.loader is not None
_standards = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_standards)
run_reference = _standards.run_reference


def _check_rows(page: Any) -> dict[str, tuple[str, str]]:
    page.wait_for_selector("#checks li.check[data-check='oa-target-hash']")
    items = page.locator("#checks li.check")
    return {
        str(items.nth(i).get_attribute("data-check")): (
            str(items.nth(i).get_attribute("data-status")),
            str(items.nth(i).get_attribute("data-code")),
        )
        for i in range(items.count())
    }


def test_an_openattestation_certificate_uploaded_on_the_verifier_page(
    vn_node: Any, browser: Any, run_reference: Any, screenshots: Path, tmp_path: Path
) -> None:
    certificate = {
        "$template": {"name": "COO", "type": "EMBEDDED_RENDERER", "url": "https://r.example"},
        "issuers": [
            {
                "name": "Ministry of Industry and Trade",
                "documentStore": "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d",
                "identityProof": {"type": "DNS-TXT", "location": "moit.example.vn"},
            }
        ],
        "certificateNumber": "VN-SG 24/02/0000042",
        "exporter": {"name": "Công ty Cà phê Việt"},
    }
    made = run_reference(
        "openattestation.cjs", {"action": "wrap", "documents": [certificate, certificate]}
    )
    wrapped = made["wrapped"][0]
    valid_file = tmp_path / "certificate.tt"
    valid_file.write_text(json.dumps(wrapped))
    tampered = json.loads(json.dumps(wrapped))
    salt, kind, _ = tampered["data"]["certificateNumber"].split(":", 2)
    tampered["data"]["certificateNumber"] = f"{salt}:{kind}:VN-SG 24/02/9999999"
    tampered_file = tmp_path / "tampered.tt"
    tampered_file.write_text(json.dumps(tampered))
    page = browser.new_page()
    assert page.goto(f"{vn_node.base}/verify").status == 200

    page.set_input_files("#file", str(valid_file))
    page.get_by_role("button", name="Verify the file").click()
    rows = _check_rows(page)
    assert rows["oa-target-hash"] == ("valid", "oa-target-hash-matches")
    assert rows["oa-merkle-proof"] == ("valid", "oa-proof-valid")
    assert rows["oa-dns-identity"] == ("skipped", "dns-unreachable")
    page.screenshot(path=str(screenshots / "verify-openattestation.png"), full_page=True)

    page.set_input_files("#file", str(tampered_file))
    page.get_by_role("button", name="Verify the file").click()
    page.wait_for_selector("#checks li[data-check='oa-target-hash'][data-status='invalid']")
    rows = _check_rows(page)
    assert rows["oa-target-hash"] == ("invalid", "target-hash-mismatch")
    assert "Not valid" in page.locator("#verdict").inner_text()
    page.close()
