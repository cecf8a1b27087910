"""The QR code of a certificate's link: level M, small enough for a phone camera."""

from __future__ import annotations

import pytest

from adapters.printing import link_qr_code

TARGET = "0x" + "3c" * 32


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8000", "https://verify.customs.gov.vn", "https://hq.customs.go.kr"]
)
def test_a_verification_link_fits_a_version_6_symbol_at_level_m(base: str) -> None:
    qr = link_qr_code(f"{base}/v/{TARGET}")

    assert qr.error_level == "M"
    assert qr.version <= 6
    assert qr.modules_per_side == 17 + 4 * qr.version
    assert all(len(row) == qr.modules_per_side for row in qr.rows)


def test_the_finder_pattern_is_where_a_reader_looks_for_it() -> None:
    rows = link_qr_code(f"http://127.0.0.1:8000/v/{TARGET}").rows

    assert rows[0][:7] == (True,) * 7
    assert rows[1][:7] == (True, False, False, False, False, False, True)
    assert rows[3][2:5] == (True, True, True)


def test_a_link_too_long_for_a_phone_camera_is_refused() -> None:
    with pytest.raises(ValueError, match="shorten"):
        link_qr_code("https://example.org/" + "x" * 400)
