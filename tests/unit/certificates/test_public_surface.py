"""The certificates package exposes its public surface, lazily and completely."""

from __future__ import annotations

import importlib

import pytest

import certificates


@pytest.mark.parametrize("name", certificates.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(certificates, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        importlib.import_module("certificates").no_such_thing  # noqa: B018


def test_the_declared_surface_and_the_lazy_table_agree() -> None:
    assert sorted(certificates.__all__) == sorted(certificates._EXPORTS)
