"""Value types shared by the document schemas: codes, amounts, dates, text, parties.

Each type is a constrained ``str`` (or ``date``) whose JSON Schema carries its pattern
and length, so an issuer's system can validate before sending. Amounts and quantities
are decimal strings, never JSON numbers: hashes cover exact text, and binary floats
cannot hold ``0.1`` (docs/documents.md).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from certificates.hashes import HASH_PATTERN
from certificates.schemas.base import Omittable, StrictModel

__all__ = [
    "COUNTRY_CODES",
    "CURRENCY_CODES",
    "Address",
    "Authority",
    "CountryCode",
    "CountryList",
    "CurrencyCode",
    "CustomsOfficeCode",
    "Description",
    "DocumentNumber",
    "DocumentTypeId",
    "HsCode",
    "Identifier",
    "IsoDate",
    "ItemNumber",
    "Label",
    "Measure",
    "MonetaryAmount",
    "MoneyAmount",
    "Name",
    "Party",
    "Port",
    "Quantity",
    "TargetHash",
    "Text",
    "UnLocode",
    "UnitCode",
    "Weight",
    "distinct_item_numbers",
]


def _code_set(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


#: ISO 3166-1 alpha-2, officially assigned codes.
COUNTRY_CODES: Final = _code_set(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
)

#: ISO 4217 codes of circulating currencies (no funds, metals, test or special codes):
#: what an invoice can be priced in.
CURRENCY_CODES: Final = _code_set(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
    """
)


def _member_of(codes: frozenset[str], kind: str) -> AfterValidator:
    def check(code: str) -> str:
        if code not in codes:
            raise PydanticCustomError(
                "unknown_code",
                "{code} is not an assigned {kind} code",
                {
                    "code": code,
                    "kind": kind,
                },
            )
        return code

    return AfterValidator(check)


# --- text -------------------------------------------------------------------------------
# No control characters, no leading or trailing white space: the hashed text is the text
# a reader sees. Multi-line fields allow line feeds (never carriage returns).
_EDGE = r"[^\s\x00-\x1f\x7f-\x9f]"
_SINGLE_LINE = rf"^{_EDGE}(?:[^\x00-\x1f\x7f-\x9f]*{_EDGE})?$"
_MULTI_LINE = rf"^{_EDGE}(?:[^\x00-\x09\x0b-\x1f\x7f-\x9f]*{_EDGE})?$"

#: A name of a person, company, authority or office.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_SINGLE_LINE)]
#: A short single-line label (an FTA form's name, a vessel or flight).
Label = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_SINGLE_LINE)]
#: A postal address; line feeds separate lines.
Address = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_MULTI_LINE)]
#: A description of goods.
Description = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=_MULTI_LINE)]
#: Free text such as remarks or a permit condition.
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=_MULTI_LINE)]

_IDENTIFIER = r"^[A-Za-z0-9](?:[A-Za-z0-9 ./:_-]{0,62}[A-Za-z0-9])?$"
#: The number an issuer gives a document: letters, digits, space and ``. / : _ -``.
DocumentNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_IDENTIFIER)]
#: A party's registration number (tax id, EORI, AEO number), same alphabet.
Identifier = DocumentNumber

# --- codes ------------------------------------------------------------------------------
#: ISO 3166-1 alpha-2 country code, e.g. ``VN``.
CountryCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{2}$"), _member_of(COUNTRY_CODES, "ISO 3166-1 country")
]
#: ISO 4217 currency code, e.g. ``USD``.
CurrencyCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), _member_of(CURRENCY_CODES, "ISO 4217 currency")
]
#: Harmonized System code: chapter 01-99, heading and subheading (6 digits), optionally
#: national subdivisions up to 10 digits; dots allowed after the 4th, 6th and 8th digit.
HsCode = Annotated[
    str,
    StringConstraints(
        max_length=13,
        pattern=r"^(?:0[1-9]|[1-9][0-9])[0-9]{2}\.?[0-9]{2}(?:\.?[0-9]{2})?(?:\.?[0-9]{1,2})?$",
    ),
]
#: UN/ECE Recommendation 20 unit code, e.g. ``KGM``, ``TNE``, ``C62``.
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,3}$")]
#: UN/LOCODE of a port or place, e.g. ``VNSGN``.
UnLocode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")]
#: A customs office's code in its administration's register, e.g. ``02CI``.
CustomsOfficeCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,17}$")]
#: A versioned document type id, e.g. ``coo/1``.
DocumentTypeId = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}/[1-9][0-9]{0,3}$")
]
#: A document's target hash: ``0x`` and 64 lower-case hex digits.
TargetHash = Annotated[str, StringConstraints(pattern=HASH_PATTERN)]

# --- amounts ----------------------------------------------------------------------------
#: A non-negative amount of money as a decimal string: up to 15 integer digits and 4
#: decimals, no sign, exponent or leading zeros, e.g. ``"12500.50"``.
MoneyAmount = Annotated[
    str, StringConstraints(max_length=20, pattern=r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,4})?$")
]
# Zero is not a quantity: a positive decimal with up to 15 integer digits and 6 decimals.
_POSITIVE_FRACTION = "|".join(f"{'0' * k}[1-9][0-9]{{0,{5 - k}}}" for k in range(6))
#: A positive quantity as a decimal string: up to 15 integer digits and 6 decimals,
#: e.g. ``"19.2"``.
Quantity = Annotated[
    str,
    StringConstraints(
        max_length=22,
        pattern=rf"^(?:[1-9][0-9]{{0,14}}(?:\.[0-9]{{1,6}})?|0\.(?:{_POSITIVE_FRACTION}))$",
    ),
]

# --- dates ------------------------------------------------------------------------------
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or _ISO_DATE.fullmatch(value) is None:
        raise PydanticCustomError("iso_date", "expected a date as a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "iso_date", "{value} is not a calendar date", {"value": value}
        ) from None


#: A calendar date, ``YYYY-MM-DD`` (ISO 8601 / RFC 3339 full-date).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _unique_countries(codes: list[str]) -> list[str]:
    if len(set(codes)) != len(codes):
        raise PydanticCustomError("duplicate_country", "each country may appear once")
    return codes


#: A list of distinct countries.
CountryList = Annotated[
    list[CountryCode],
    Field(min_length=1, max_length=50, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique_countries),
]


#: A line number on the document, 1-999.
ItemNumber = Annotated[int, Field(ge=1, le=999)]


class _NumberedItem(Protocol):
    @property
    def item_number(self) -> int: ...


_Item = TypeVar("_Item", bound=_NumberedItem)


def distinct_item_numbers(items: list[_Item]) -> list[_Item]:
    """After-validator for a list of items: no two items share a number."""
    numbers = [item.item_number for item in items]
    if len(set(numbers)) != len(numbers):
        raise PydanticCustomError("duplicate_item_number", "item numbers must be distinct")
    return items


# --- composite values ---------------------------------------------------------------------
class Party(StrictModel):
    """A company or person: exporter, producer, importer, holder, declarant."""

    name: Name
    address: Address
    country: CountryCode
    identifier: Omittable[Identifier] = None
    """Registration number (tax id, EORI, AEO number) in the party's country."""


class Authority(StrictModel):
    """An issuing authority or ministry."""

    name: Name
    country: CountryCode


class MonetaryAmount(StrictModel):
    amount: MoneyAmount
    currency: CurrencyCode


class Measure(StrictModel):
    """A quantity with its UN/ECE Recommendation 20 unit."""

    value: Quantity
    unit: UnitCode


class Weight(StrictModel):
    value: Quantity
    unit: Literal["KGM", "TNE", "GRM", "LBR"]
    """Kilogram, tonne, gram or pound (UN/ECE Recommendation 20)."""


class Port(StrictModel):
    name: Name
    un_locode: Omittable[UnLocode] = None
