"""The certificates of origin VN's trade ministry issues in the demo, and their
amendments: realistic synthetic ``coo/1`` documents for goods exported to Korea."""

from __future__ import annotations

from typing import Final

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_certificate_of_origin

#: the sample generator cycles through six destinations; Korea is the third
_DESTINATIONS: Final = 6
_KOREA: Final = 2


def certificate_for_korea(position: int) -> JsonObject:
    """The ``position``-th certificate of origin of the demo, addressed to KR."""
    document = sample_certificate_of_origin(position * _DESTINATIONS + _KOREA)
    if document["importingCountry"] != "KR":  # the generator changed its destinations
        raise AssertionError("sample certificate is not addressed to KR")
    return document


def amended_certificate(original: JsonObject) -> JsonObject:
    """The replacement of ``original``: the same certificate with a corrected remark."""
    return {
        **original,
        "remarks": (
            f"Amends certificate {original['certificateNumber']}: gross weight of item 1 "
            "corrected after re-weighing at the port of loading."
        ),
    }
