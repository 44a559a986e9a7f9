"""Reading a customer's SMS reply: a score with an optional comment, or a stop word.

Pure: the inbound handler (logic/replies.py) decides what to do with the reading. People answer
a text message the way they type: "9", "10!", "9 great service", "9/10", "nine, quick delivery",
"STOP", "Lopeta". Only a score at the start of the message counts as a score, so "Delivery
took 2 days" is unreadable (and gets one help reply) rather than a 2.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from .safe_text import clean_text
from .scoring import scale_of

MAX_REPLY_COMMENT = 1000  # the survey page's cap; a long SMS comment is cut, not refused

# Opt-out keywords: the carriers' and AWS End User Messaging's English defaults plus Finnish
# and Swedish. Compared case-insensitively, without accents' case or trailing punctuation.
STOP_WORDS = frozenset(
    {
        # English (the carrier-standard list)
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "opt-out",
        "revoke",
        # Finnish
        "lopeta",
        "lopetus",
        "loppu",
        "peruuta",
        "peru",
        "kielto",
        # Swedish
        "sluta",
        "stopp",
        "stoppa",
        "avsluta",
        "avanmäl",
        "avregistrera",
    }
)

# Scores written as words, 0-10, in the three languages we send in.
NUMBER_WORDS: dict[str, int] = {
    **dict.fromkeys(("zero", "nolla", "noll"), 0),
    **dict.fromkeys(("one", "yksi", "ett"), 1),
    **dict.fromkeys(("two", "kaksi", "två", "tva"), 2),
    **dict.fromkeys(("three", "kolme", "tre"), 3),
    **dict.fromkeys(("four", "neljä", "nelja", "fyra"), 4),
    **dict.fromkeys(("five", "viisi", "fem"), 5),
    **dict.fromkeys(("six", "kuusi", "sex"), 6),
    **dict.fromkeys(("seven", "seitsemän", "seitseman", "sju"), 7),
    **dict.fromkeys(("eight", "kahdeksan", "åtta", "atta"), 8),
    **dict.fromkeys(("nine", "yhdeksän", "yhdeksan", "nio"), 9),
    **dict.fromkeys(("ten", "kymmenen", "tio"), 10),
}

# A leading number, optionally "out of" the scale ("9/10", "9 / 10"), then the rest.
_LEADING_NUMBER = re.compile(r"^(?P<number>[+-]?\d+(?:[.,]\d+)?)(?:\s*/\s*\d+)?(?P<rest>.*)$", re.S)
_LEADING_WORD = re.compile(r"^(?P<word>[^\W\d_]+(?:-[^\W\d_]+)?)(?P<rest>.*)$", re.S)
# What may separate the score from the comment: spaces, punctuation, dashes.
_SEPARATORS = " \t\r\n.,;:!?-–—/()[]\"'*"
_WORD_SCORE_ENDS = ".,;:!-–—/"


@dataclass(frozen=True)
class SmsReading:
    """What a reply says.

    kind: score (a valid score, maybe a comment), stop (an opt-out keyword), out-of-range
    (a whole number outside the metric's scale), unreadable (anything else, empty included).
    """

    kind: Literal["score", "stop", "out-of-range", "unreadable"]
    score: int | None = None
    comment: str | None = None


def normalize(body: str) -> str:
    """NFKC folds full-width digits and compatibility forms (line breaks are kept)."""
    return unicodedata.normalize("NFKC", body).strip()


def is_stop(body: str) -> bool:
    """An opt-out: the message starts with a stop word ("STOP", "Lopeta!", "sluta tack")."""
    match = _LEADING_WORD.match(normalize(body).lstrip(_SEPARATORS))
    return match is not None and match["word"].casefold() in STOP_WORDS


def _comment(rest: str) -> str | None:
    # Stored clean: no control or bidi-override characters (safe_text.py).
    comment = clean_text(rest).lstrip(_SEPARATORS).rstrip()
    # Punctuation only ("10!!!") is no comment; anything with a letter, digit or emoji is.
    if not comment or all(unicodedata.category(c)[0] in "PZ" for c in comment):
        return None
    return comment[:MAX_REPLY_COMMENT]


def read_reply(body: str, metric: str) -> SmsReading:
    """Read a reply to a survey that asked for `metric` (its scale decides what is in range)."""
    if is_stop(body):
        return SmsReading("stop")
    text = normalize(body).lstrip(_SEPARATORS.replace("-", "").replace("+", ""))
    low, high = scale_of(metric)
    number = _LEADING_NUMBER.match(text)
    if number:
        raw, rest = number["number"], number["rest"]
        if rest[:1].isalpha():
            return SmsReading("unreadable")  # "9am", "3rd": not a score
        if not raw.isdigit():
            return SmsReading("out-of-range")  # "9.5", "-1": a number, but not on the scale
        return _on_scale(int(raw), rest, low, high)
    word = _LEADING_WORD.match(text)
    if word is None:
        return SmsReading("unreadable")
    value = NUMBER_WORDS.get(word["word"].casefold())
    rest = word["rest"]
    # "nine" or "nine, quick delivery" is a score; "One thing was wrong" is a sentence.
    if value is None or (rest.strip() and rest.lstrip()[0] not in _WORD_SCORE_ENDS):
        return SmsReading("unreadable")
    return _on_scale(value, rest, low, high)


def _on_scale(value: int, rest: str, low: int, high: int) -> SmsReading:
    if not low <= value <= high:
        return SmsReading("out-of-range")
    return SmsReading("score", value, _comment(rest))
