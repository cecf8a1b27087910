"""Validation messages in words, never a raw regular expression."""

from __future__ import annotations

from node.http.plain_messages import MAX_SHOWN, plain_message


def test_a_hash_pattern_is_said_in_words() -> None:
    message = plain_message({"msg": "String should match pattern '^0x[0-9a-f]{64}$'"})
    assert message == "should be 0x followed by 64 hexadecimal digits"


def test_an_unknown_pattern_is_not_shown_either() -> None:
    message = plain_message({"msg": "String should match pattern '^[a-z]{3}-\\d+$'"})
    assert "[" not in message
    assert "pattern" not in message


def test_other_messages_pass_through_shortened() -> None:
    assert plain_message({"msg": "Field required"}) == "Field required"
    assert len(plain_message({"msg": "x" * 10_000})) == MAX_SHOWN
