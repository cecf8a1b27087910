"""Errors carry no transport; node/http/problems.py maps their kinds to statuses once.

``problem_codes.json`` is the published list of problem codes and their statuses: other
administrations code against them, so a code may be added but never changed or dropped.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import pytest

import adapters
import certificates
import ledger
import node
from certificates.errors import (
    Conflict,
    DocexError,
    Invalid,
    InvalidInput,
    NotFound,
    Refused,
    TooLarge,
    Unavailable,
    UpstreamFailed,
)
from node.errors import NotAuthenticated, RateLimited, StorageFull
from node.http.problems import problem_for, status_for

PUBLISHED = json.loads((Path(__file__).with_name("problem_codes.json")).read_text())


def _every_error_class() -> dict[str, type[DocexError]]:
    found: dict[str, type[DocexError]] = {}
    for package in (certificates, ledger, adapters, node):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for _, member in inspect.getmembers(module, inspect.isclass):
                if issubclass(member, DocexError):
                    found[member.code] = member
    return found


def _instance(error_class: type[DocexError]) -> DocexError:
    return error_class.__new__(error_class)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (Invalid, 422),
        (InvalidInput, 400),
        (TooLarge, 413),
        (NotFound, 404),
        (Conflict, 409),
        (Refused, 403),
        (Unavailable, 503),
        (UpstreamFailed, 502),
        (DocexError, 500),
    ],
)
def test_each_kind_has_its_status(kind: type[DocexError], status: int) -> None:
    class Sample(kind):  # type: ignore[misc, valid-type]
        code = "sample"

    assert status_for(Sample("x")) == status


def test_the_few_exceptions_to_their_kind_keep_their_status() -> None:
    assert status_for(NotAuthenticated("x")) == 401
    assert status_for(RateLimited("x", retry_after=3)) == 429
    assert status_for(StorageFull("x")) == 507


def test_no_error_names_a_status_of_its_own() -> None:
    assert not [name for name, cls in _every_error_class().items() if "http_status" in vars(cls)]


def test_published_problem_codes_keep_their_status_and_never_disappear() -> None:
    current = {code: status_for(_instance(cls)) for code, cls in _every_error_class().items()}
    changed = {
        code: (status, current.get(code))
        for code, status in PUBLISHED.items()
        if current.get(code) != status
    }
    assert not changed, f"published problem codes changed or dropped: {changed}"


def test_a_problem_is_rfc9457_with_its_code_and_headers() -> None:
    response = problem_for(RateLimited("slow down", retry_after=7), "/v1/verify")
    body = json.loads(bytes(response.body))
    assert response.status_code == 429
    assert response.media_type == "application/problem+json"
    assert response.headers["retry-after"] == "7"
    assert body == {
        "type": "urn:docex:problem:rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "slow down",
        "code": "rate-limited",
        "instance": "/v1/verify",
    }
