"""The language a browser asks for (Accept-Language), for pages that know no customer."""

import pytest
from survey_core.web.languages import MAX_HEADER_LENGTH, preferred_language

pytestmark = pytest.mark.unit

SUPPORTED = ("fi", "sv", "en")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.8", "sv"),
        ("en-GB,en;q=0.9,fi;q=0.8", "en"),
        ("FI", "fi"),
        ("fi_FI", "fi"),
        ("de-DE,de;q=0.9,sv;q=0.5,en;q=0.7", "en"),  # by quality, not by position
        ("en;q=0.5,sv;q=0.5", "en"),  # equal quality: the first listed
        ("sv;q=0,en;q=0.1", "en"),  # q=0: "not this one"
        (" sv ; q = 0.8 , en ; q=0.4", "sv"),  # whitespace around the parts
        ("sv;q=abc,en;q=0.2", "en"),  # an unreadable quality counts as 0
        ("sv;q=2,en;q=0.2", "en"),  # and so does one out of range
        ("*", "fi"),
        ("de,ja", "fi"),
        ("", "fi"),
        (None, "fi"),
        (",,;;=,", "fi"),
    ],
)
def test_the_highest_ranked_supported_language_else_the_default(
    header: str | None, expected: str
) -> None:
    assert preferred_language(header, SUPPORTED, "fi") == expected


def test_a_header_longer_than_any_browsers_is_read_only_so_far() -> None:
    header = "de," * (MAX_HEADER_LENGTH // 3) + "sv"
    assert preferred_language(header, SUPPORTED, "en") == "en"
    assert preferred_language("sv," + header, SUPPORTED, "en") == "sv"
