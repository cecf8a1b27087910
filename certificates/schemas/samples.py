"""Realistic synthetic documents for tests, benchmarks and the README.

Every function is a pure function of its arguments: the same ``index`` gives the same
document, different indices give different document numbers, and every document is
valid for its schema and already in the exact form validation returns (defaults filled
in), so ``validate_document(doc).data == doc``. Text includes Vietnamese and Japanese
(NFC) so that non-ASCII paths are exercised.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final, NamedTuple

from certificates.json_types import JsonObject, JsonValue

__all__ = [
    "MAX_SAMPLE_ITEMS",
    "sample_certificate_of_origin",
    "sample_certificate_of_origin_v2",
    "sample_declaration",
    "sample_document",
    "sample_permit",
    "sample_permit_in_force",
]

#: The largest ``items`` the generators accept (the smallest list limit of the schemas).
MAX_SAMPLE_ITEMS: Final = 200

_EPOCH: Final = date(2024, 1, 2)


class _Party(NamedTuple):
    name: str
    address: str
    country: str
    identifier: str | None


class _Destination(NamedTuple):
    country: str
    fta_form: str
    importer: _Party
    port: str
    locode: str
    customs_office: tuple[str, str]


class _Goods(NamedTuple):
    hs_code: str
    description: str
    unit: str
    #: US cents per unit.
    unit_price: int
    origin_criterion: str
    #: Grams of gross weight per unit, when the unit is not itself a mass.
    grams_per_unit: int


_EXPORTERS: Final = (
    _Party(
        "Công ty TNHH Cà phê Tây Nguyên",
        "Số 12 Lê Duẩn, Phường Tân Lợi\nTP. Buôn Ma Thuột, Đắk Lắk, Việt Nam",
        "VN",
        "6000123456",
    ),
    _Party(
        "Công ty Cổ phần Xuất nhập khẩu Gạo Mekong",
        "88 Trần Hưng Đạo, Quận Ninh Kiều, TP. Cần Thơ, Việt Nam",
        "VN",
        "1800234567",
    ),
    _Party(
        "Công ty TNHH Điều Bình Phước",
        "KCN Đồng Xoài, Tỉnh Bình Phước, Việt Nam",
        "VN",
        "3800345678",
    ),
    _Party(
        "Công ty Cổ phần Thủy sản Cà Mau",
        "Số 5 Nguyễn Tất Thành, Phường 8\nTP. Cà Mau, Việt Nam",
        "VN",
        "2000456789",
    ),
    _Party(
        "Công ty TNHH May mặc Sài Gòn Xanh",
        "Lô B3, KCN Tân Bình, TP. Hồ Chí Minh, Việt Nam",
        "VN",
        "0301567890",
    ),
)

_PRODUCERS: Final = (
    _Party("Hợp tác xã Cà phê Ea Tu", "Xã Ea Tu, TP. Buôn Ma Thuột, Đắk Lắk, Việt Nam", "VN", None),
    _Party(
        "Nhà máy Chế biến Nông sản Long An",
        "KCN Đức Hòa 1, Huyện Đức Hòa, Long An, Việt Nam",
        "VN",
        "1100678901",
    ),
)

_DESTINATIONS: Final = (
    _Destination(
        "SG",
        "ATIGA Form D",
        _Party("Tan Seng Trading Pte. Ltd.", "10 Anson Road, #22-01\nSingapore 079903", "SG", None),
        "Singapore",
        "SGSIN",
        ("TPC", "Singapore Customs, Tanjong Pagar Checkpoint"),
    ),
    _Destination(
        "TH",
        "ATIGA Form D",
        _Party(
            "Siam Fine Foods Co., Ltd.",
            "99 Rama IV Road, Khlong Toei, Bangkok 10110, Thailand",
            "TH",
            "0105551234567",
        ),
        "Laem Chabang",
        "THLCH",
        ("2801", "Laem Chabang Customs House"),
    ),
    _Destination(
        "KR",
        "AKFTA Form AK",
        _Party(
            "Hanbit Trading Co., Ltd.",
            "123 Teheran-ro, Gangnam-gu, Seoul 06133, Republic of Korea",
            "KR",
            "KR1208812345",
        ),
        "Busan",
        "KRPUS",
        ("030", "Busan Customs"),
    ),
    _Destination(
        "CN",
        "ACFTA Form E",
        _Party(
            "Shanghai Oriental Import Co., Ltd.",
            "No. 88 Century Avenue, Pudong New Area, Shanghai 200120, China",
            "CN",
            "91310115MA1K4ABC2X",
        ),
        "Shanghai",
        "CNSHA",
        ("2200", "Shanghai Customs District"),
    ),
    _Destination(
        "JP",
        "AJCEP Form AJ",
        _Party(
            "Sakura Shokuhin K.K. (株式会社さくら食品)",
            "2-1 Kaigan, Minato-ku, Tokyo 105-0022, Japan",
            "JP",
            None,
        ),
        "Tokyo",
        "JPTYO",
        ("1A", "Tokyo Customs, Ohi Branch"),
    ),
    _Destination(
        "MY",
        "ATIGA Form D",
        _Party(
            "Harimau Commodities Sdn. Bhd.",
            "Jalan Sultan Ismail, 50250 Kuala Lumpur, Malaysia",
            "MY",
            "201901012345",
        ),
        "Port Klang",
        "MYPKG",
        ("B10", "Royal Malaysian Customs, Port Klang"),
    ),
)

_GOODS: Final = (
    _Goods(
        "0901.11",
        "Robusta coffee beans, not roasted, not decaffeinated, grade 1, screen 18",
        "KGM",
        435,
        "WO",
        1010,
    ),
    _Goods("1006.30.30", "Milled jasmine rice, 5% broken, in 50 kg bags", "KGM", 62, "WO", 1005),
    _Goods("0801.32", "Cashew nuts, shelled, grade W320", "KGM", 710, "WO", 1020),
    _Goods("0904.11", "Black pepper, neither crushed nor ground, 550 g/l", "KGM", 490, "WO", 1010),
    _Goods(
        "0306.17.11",
        "Frozen black tiger shrimp (Penaeus monodon), head-on, shell-on, size 16/20",
        "KGM",
        1180,
        "WO",
        1150,
    ),
    _Goods("6109.10", "Men's T-shirts, knitted, of cotton", "C62", 325, "CTH", 180),
    _Goods("9403.60.90", "Dining tables of acacia wood, assembled", "C62", 8500, "RVC 40%", 32000),
    _Goods("4001.22", "Technically specified natural rubber, SVR 3L", "KGM", 155, "WO", 1000),
    _Goods("1905.90.80", "Rice crackers, sweetened", "KGM", 240, "PE", 1100),
    _Goods("8517.13.00", "Smartphones, 5G, with accessories", "C62", 14500, "RVC 40%", 450),
)

_PERMIT_GOODS: Final = (
    ("2915.24", "Acetic anhydride, industrial precursor, 99.5% purity", "KGM"),
    ("4407.99", "Sawn timber of acacia, thickness exceeding 6 mm", "MTQ"),
    ("1006.30", "Milled rice, long grain, 5% broken", "TNE"),
    ("8525.60", "Radio transmission apparatus incorporating reception apparatus", "C62"),
    ("3808.91", "Insecticides put up for retail sale", "KGM"),
    ("0106.20", "Live reptiles, farm-bred (CITES Appendix II)", "C62"),
)

_CONDITIONS: Final = (
    "Goods must be declared at the border gate named in the application.",
    "The permit may not be transferred to another holder.",
    "Report each consignment to the issuing ministry within 10 working days.\n"
    "Attach the customs declaration number to the report.",
)

_AUTHORITIES: Final = (
    "Phòng Quản lý Xuất nhập khẩu khu vực TP. Hồ Chí Minh (Bộ Công Thương)",
    "Phòng Quản lý Xuất nhập khẩu khu vực Hà Nội (Bộ Công Thương)",
    "Phòng Quản lý Xuất nhập khẩu khu vực Đà Nẵng (Bộ Công Thương)",
)

_MINISTRIES: Final = (
    ("Bộ Công Thương (Ministry of Industry and Trade)", "BCT"),
    ("Bộ Nông nghiệp và Môi trường (Ministry of Agriculture and Environment)", "BNNMT"),
)

_PORTS_OF_LOADING: Final = (
    ("Cat Lai, Ho Chi Minh City", "VNCLI"),
    ("Hai Phong", "VNHPH"),
    ("Cai Mep", "VNCMT"),
    ("Da Nang", "VNDAD"),
)

_VESSELS: Final = ("MAERSK SENTOSA", "WAN HAI 301", "ONE OLYMPUS", "EVER LUCID", "CSCL SATURN")

_VN_CUSTOMS_OFFICES: Final = (
    ("02CI", "Chi cục Hải quan cửa khẩu cảng Sài Gòn khu vực I"),
    ("03CE", "Chi cục Hải quan cửa khẩu cảng Hải Phòng khu vực III"),
    ("34CE", "Chi cục Hải quan cửa khẩu cảng Đà Nẵng"),
)


def _check_arguments(index: int, items: int) -> None:
    if index < 0:
        raise ValueError("index must be >= 0")
    if not 1 <= items <= MAX_SAMPLE_ITEMS:
        raise ValueError(f"items must be between 1 and {MAX_SAMPLE_ITEMS}")


def _day(index: int, offset: int = 0) -> date:
    return _EPOCH + timedelta(days=index % 700 + offset)


def _decimal(units: int, scale: int) -> str:
    """``units`` / 10**scale as a decimal string, e.g. (12345, 2) -> "123.45"."""
    whole, fraction = divmod(units, 10**scale)
    return f"{whole}.{fraction:0{scale}d}" if scale else str(whole)


def _party(party: _Party) -> JsonObject:
    value: JsonObject = {"name": party.name, "address": party.address, "country": party.country}
    if party.identifier is not None:
        value["identifier"] = party.identifier
    return value


def _quantity(index: int, line: int) -> int:
    return 100 + (index * 7919 + line * 104729) % 19_900


def sample_certificate_of_origin(index: int, *, items: int = 3) -> JsonObject:
    """A ``coo/1`` from a Vietnamese exporter to one of six trading partners."""
    _check_arguments(index, items)
    destination = _DESTINATIONS[index % len(_DESTINATIONS)]
    exporter = _EXPORTERS[index % len(_EXPORTERS)]
    port_name, port_code = _PORTS_OF_LOADING[index % len(_PORTS_OF_LOADING)]
    departure = _day(index)
    retroactive = index % 17 == 5
    issue_date = departure + timedelta(days=4) if retroactive else departure - timedelta(days=1)
    invoice_date = departure - timedelta(days=3 + index % 10)
    invoice_number = f"INV-{departure.year}-{index:06d}"
    lines: list[JsonValue] = []
    for line in range(items):
        goods = _GOODS[(index + line) % len(_GOODS)]
        quantity = _quantity(index, line)
        item: JsonObject = {
            "itemNumber": line + 1,
            "hsCode": goods.hs_code,
            "description": goods.description,
        }
        if index % 2 == 0:
            item["marksAndPackages"] = (
                f"{quantity // 50 + 1} cartons, marked {destination.country}-{index}"
            )
        item["quantity"] = {"value": str(quantity), "unit": goods.unit}
        if goods.unit == "KGM" or line % 2 == 0:
            item["grossWeight"] = {
                "value": _decimal(quantity * goods.grams_per_unit, 3),
                "unit": "KGM",
            }
        item["originCriterion"] = goods.origin_criterion
        item["fobValue"] = {"amount": _decimal(quantity * goods.unit_price, 2), "currency": "USD"}
        item["invoice"] = {"number": invoice_number, "date": invoice_date.isoformat()}
        lines.append(item)
    document: JsonObject = {
        "documentType": "coo/1",
        "certificateNumber": f"VN-{destination.country} {issue_date:%y}/02/{index:07d}",
        "ftaForm": destination.fta_form,
        "issuingAuthority": {"name": _AUTHORITIES[index % len(_AUTHORITIES)], "country": "VN"},
        "exporter": _party(exporter),
    }
    if index % 3 == 0:
        document["producer"] = _party(_PRODUCERS[index % len(_PRODUCERS)])
    document |= {
        "importer": _party(destination.importer),
        "transport": {
            "departureDate": departure.isoformat(),
            "vesselOrFlight": f"{_VESSELS[index % len(_VESSELS)]} V.{index % 90 + 10}N",
            "portOfLoading": {"name": port_name, "unLocode": port_code},
            "portOfDischarge": {"name": destination.port, "unLocode": destination.locode},
        },
        "items": lines,
        "importingCountry": destination.country,
        "issueDate": issue_date.isoformat(),
    }
    if index % 4 == 1:
        document["remarks"] = f"Shipped in {items} x 40' containers; B/L no. HCM{index:08d}."
    document |= {
        "backToBack": index % 29 == 7,
        "thirdPartyInvoicing": index % 13 == 3,
        "issuedRetroactively": retroactive,
    }
    return document


def sample_certificate_of_origin_v2(index: int, *, items: int = 3) -> JsonObject:
    """A ``coo/2``: the ``coo/1`` sample of the same index with the fields ``coo/2`` adds."""
    document = sample_certificate_of_origin(index, items=items)
    document["documentType"] = "coo/2"
    transport = document["transport"]
    assert isinstance(transport, dict)
    transport["modeCode"] = "1"
    lines = document["items"]
    assert isinstance(lines, list)
    for line in lines:
        assert isinstance(line, dict)
        quantity = line["quantity"]
        assert isinstance(quantity, dict)
        line["packages"] = {"count": int(str(quantity["value"])) // 50 + 1, "kindCode": "CT"}
        line["originCountry"] = "VN"
    if document["thirdPartyInvoicing"]:
        document["thirdPartyOperator"] = {"name": "Mekong Trading Pte. Ltd.", "country": "SG"}
    document |= {
        "exhibition": False,
        "deMinimis": index % 11 == 4,
        "accumulation": index % 7 == 2,
        "partialCumulation": False,
    }
    return document


def sample_permit(index: int, *, items: int = 3) -> JsonObject:
    """A ``permit/1``: an export permit for odd ``index``, an import permit for even."""
    _check_arguments(index, items)
    kind = "export" if index % 2 else "import"
    ministry, ministry_code = _MINISTRIES[index % len(_MINISTRIES)]
    holder = _EXPORTERS[index % len(_EXPORTERS)]
    issue_date = _day(index, -10)
    valid_from = issue_date + timedelta(days=index % 3)
    goods: list[JsonValue] = []
    for line in range(items):
        hs_code, description, unit = _PERMIT_GOODS[(index + line) % len(_PERMIT_GOODS)]
        goods.append(
            {
                "hsCode": hs_code,
                "description": description,
                "quantity": {"value": str(_quantity(index, line) * 10), "unit": unit},
            }
        )
    conditions: list[JsonValue] = list(_CONDITIONS[: index % (len(_CONDITIONS) + 1)])
    document: JsonObject = {
        "documentType": "permit/1",
        "permitNumber": f"{index:06d}/GP-{ministry_code}",
        "kind": kind,
        "issuingMinistry": {"name": ministry, "country": "VN"},
        "holder": _party(holder),
        "goods": goods,
        "validity": {
            "validFrom": valid_from.isoformat(),
            "validUntil": (valid_from + timedelta(days=90 * (1 + index % 4) - 1)).isoformat(),
        },
        "conditions": conditions,
        "issueDate": issue_date.isoformat(),
    }
    # an export permit goes to the importing country's customs, an import permit to the
    # exporting country's: a document docex exchanges always has an addressee
    document["addresseeCountries"] = [_DESTINATIONS[index % len(_DESTINATIONS)].country]
    return document


def sample_permit_in_force(index: int, today: date, addressees: list[str]) -> JsonObject:
    """An export permit issued yesterday, in force for 90 days from then, addressed to
    ``addressees`` (``sample_permit``'s dates are in the past, so it verifies expired)."""
    permit = sample_permit(2 * index + 1)
    yesterday = (today - timedelta(days=1)).isoformat()
    permit["issueDate"] = yesterday
    permit["validity"] = {
        "validFrom": yesterday,
        "validUntil": (today + timedelta(days=90)).isoformat(),
    }
    countries: list[JsonValue] = [*addressees]
    permit["addresseeCountries"] = countries
    return permit


def _list(value: JsonValue) -> list[JsonValue]:
    assert isinstance(value, list)
    return value


def sample_declaration(index: int, *, items: int = 3) -> JsonObject:
    """A ``declaration/1`` referring to the sample with the same ``index``.

    Even ``index``: an import declaration in the importing country of
    ``sample_certificate_of_origin(index)``, relying on it. Odd ``index``: a Vietnamese
    export declaration relying on ``sample_permit(index)`` (an export permit).
    """
    _check_arguments(index, items)
    lines: list[JsonValue] = []
    if index % 2 == 0:
        certificate = sample_certificate_of_origin(index, items=items)
        destination = _DESTINATIONS[index % len(_DESTINATIONS)]
        office_code, office_name = destination.customs_office
        office: JsonObject = {
            "code": office_code,
            "name": office_name,
            "country": destination.country,
        }
        declarant = certificate["importer"]
        reference: JsonObject = {
            "documentType": "coo/1",
            "documentNumber": certificate["certificateNumber"],
            "issuingCountry": "VN",
        }
        for line in range(items):
            goods = _GOODS[(index + line) % len(_GOODS)]
            quantity = _quantity(index, line)
            lines.append(
                {
                    "itemNumber": line + 1,
                    "hsCode": goods.hs_code,
                    "description": goods.description,
                    "quantity": {"value": str(quantity), "unit": goods.unit},
                    # CIF: FOB plus about 4 % freight and insurance.
                    "customsValue": {
                        "amount": _decimal(quantity * goods.unit_price * 104, 4),
                        "currency": "USD",
                    },
                    "originCountry": "VN",
                }
            )
        addressees: list[JsonValue] = ["VN"]
        number = f"10{index:010d}"
    else:
        permit = sample_permit(index, items=items)
        office_code, office_name = _VN_CUSTOMS_OFFICES[index % len(_VN_CUSTOMS_OFFICES)]
        office = {"code": office_code, "name": office_name, "country": "VN"}
        declarant = permit["holder"]
        reference = {
            "documentType": "permit/1",
            "documentNumber": permit["permitNumber"],
            "issuingCountry": "VN",
        }
        for line in range(items):
            hs_code, description, unit = _PERMIT_GOODS[(index + line) % len(_PERMIT_GOODS)]
            lines.append(
                {
                    "itemNumber": line + 1,
                    "hsCode": hs_code,
                    "description": description,
                    "quantity": {"value": str(_quantity(index, line)), "unit": unit},
                    "customsValue": {
                        "amount": _decimal(_quantity(index, line) * 1375, 2),
                        "currency": "USD",
                    },
                    "originCountry": "VN",
                }
            )
        addressees = list(_list(permit["addresseeCountries"]))
        number = f"30{index:010d}"
    document: JsonObject = {
        "documentType": "declaration/1",
        "declarationNumber": number,
        "kind": "import" if index % 2 == 0 else "export",
        "customsOffice": office,
        "declarant": declarant,
        "items": lines,
        "references": [reference],
        "issueDate": _day(index, 6).isoformat(),
    }
    document["addresseeCountries"] = addressees
    return document


def sample_document(type_id: str, index: int, *, items: int = 3) -> JsonObject:
    """The sample of the given type id (``coo/1``, ``coo/2``, ``permit/1``, ``declaration/1``)."""
    generators = {
        "coo/1": sample_certificate_of_origin,
        "coo/2": sample_certificate_of_origin_v2,
        "permit/1": sample_permit,
        "declaration/1": sample_declaration,
    }
    generator = generators.get(type_id)
    if generator is None:
        raise KeyError(type_id)
    return generator(index, items=items)
