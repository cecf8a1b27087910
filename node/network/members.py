"""The default consortium of `docex network`: who its members are, which chain it runs."""

from __future__ import annotations

from typing import Final

DEFAULT_COUNTRIES: Final = ("VN", "KR", "SG", "TH")
MEMBER_NAMES: Final = {
    "VN": "General Department of Viet Nam Customs",
    "KR": "Korea Customs Service",
    "SG": "Singapore Customs",
    "TH": "Thai Customs Department",
}
DEFAULT_CHAIN_ID: Final = 7_700
