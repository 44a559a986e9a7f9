"""What the rejected-events queue's messages may contain (dal/gateways.py): SQS refuses a message
with a character outside its accepted set, so every other character is replaced or escaped."""

from __future__ import annotations

import json

import pytest
from survey_core.dal import gateways

pytestmark = pytest.mark.unit


def _accepted_by_sqs(code: int) -> bool:
    # SQS accepts #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def test_exactly_the_characters_sqs_refuses_are_found() -> None:
    # Given every Unicode code point, when each is checked alone
    found = [code for code in range(0x110000) if gateways._NOT_SQS_TEXT.fullmatch(chr(code))]
    # Then the ones found are exactly those outside what SQS accepts
    assert found == [code for code in range(0x110000) if not _accepted_by_sqs(code)]
    assert len(found) == 32 - 3 + 2048 + 2  # C0 controls but tab/newline/return, surrogates


def test_a_message_with_refused_characters_is_escaped_losslessly() -> None:
    # Given a value with a control character, a lone surrogate, U+FFFF and an emoji
    value = {"reason": "a\x00b\ud800c\uffffd\U0001f600"}
    # When it is written for SQS
    text = gateways._sqs_json(value)
    # Then nothing SQS refuses is left, the emoji stays as it is, and it reads back the same
    assert gateways._NOT_SQS_TEXT.search(text) is None
    assert "\U0001f600" in text
    assert json.loads(text) == value
