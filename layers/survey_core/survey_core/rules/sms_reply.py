"""Reading a customer's SMS reply: a score with an optional comment, or an opt-out.

Pure: the inbound handler (logic/replies.py) decides what to do with the reading. People answer
a text message the way they type: "9", "10!", "9 great service", "9/10", "nine, quick delivery",
"Loppu hyvin kaikki hyvin 10", "STOP", "Lopeta", "stop texting me please". The rules, in order
(docs/sms-replies.md has them with every table):

1. Opt-out: the WHOLE message, folded (case, accents, punctuation, symbols and repeated words
   ignored), is an opt-out keyword or phrase, optionally with courtesy words around it
   ("please", "kiitos", "tack", "now"). End User Messaging's keywords are whole-message
   keywords too; a stop word inside a longer message ("no stop to the great service 10",
   "Loppu hyvin kaikki hyvin 10") is text, never an opt-out.
2. A score at the start ("9 great service", "nine, quick"). A number inside a sentence
   ("Delivery took 2 days") is not a score.
3. A score at the end ("Loppu hyvin kaikki hyvin 10", "end of story: 3", "great 8/10!"):
   a number standing alone as the last word (punctuation after it is fine), and the only
   number in the message; the text before it is the comment.
4. Two candidates (a score at the start and another on the scale at the end: "9 ... 10"), or a
   final number next to other numbers ("Order 12345 late 2"), are ambiguous: unreadable, so
   the customer gets the one help SMS instead of a score they did not give.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Literal

from msgspec import Struct

from ..messages.safe_text import clean_text
from .scoring import scale_of

MAX_REPLY_COMMENT = 1000  # the survey page's cap; a long SMS comment is cut, not refused

# Opt-out keywords: a message that is one of these, and nothing else, opts the number out.
# "carrier": AWS End User Messaging SMS's required opt-out keywords (with STOPALL and REVOKE,
# the other carrier-standard ones), so our suppression list holds whoever End User Messaging's
# own opt-out list holds.
OPT_OUT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "carrier": (
        "STOP", "STOPALL", "END", "QUIT", "CANCEL", "UNSUBSCRIBE", "OPTOUT", "OPT-OUT",
        "OPT OUT", "REVOKE", "REMOVE", "ARRET", "TD",
    ),
    # LOPPU ("end") stays: a reply that is only "Loppu" has no other reading in an answer to a
    # survey SMS (it is not a score; in Finnish it also says "enough!"), and it is END in
    # Finnish. It only ever misfired as the first word of a longer message, which rule 1 ends.
    "fi": ("LOPETA", "LOPETTAKAA", "LOPETUS", "LOPPU", "PERUUTA", "PERU", "KIELTO"),
    "sv": (
        "SLUTA", "STOPP", "STOPPA", "AVSLUTA", "AVANMÄL", "AVANMÄLAN", "AVREGISTRERA", "AVBRYT",
    ),
}  # fmt: skip

# Whole-message phrases that mean "stop sending me messages". A refusal ("no thanks", "nej
# tack", "ei kiitos") counts: it is no score, and every other reading would text the customer
# again (a help SMS, then the reminders) after they said no. Deliberately absent: anything about
# an order ("peru tilaus", "cancel my order" ask customer service to cancel a purchase).
OPT_OUT_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "stop all", "stop it", "stop now", "stop texting", "stop texting me", "stop messaging",
        "stop messaging me", "stop sending", "stop sending me", "stop sending messages",
        "stop sending me messages", "stop sending texts", "stop sending me texts",
        "stop the texts", "stop the messages", "stop sms", "stop contacting me", "opt me out",
        "unsubscribe me", "remove me", "remove me from your list", "take me off your list",
        "take me off the list", "no more texts", "no more messages", "no more sms",
        "don't text me", "dont text me", "do not text me", "don't message me",
        "do not message me", "don't contact me", "do not contact me", "leave me alone",
        "not interested", "no thanks", "no thank you",
    ),
    "fi": (
        "lopeta viestit", "lopettakaa viestit", "lopeta tekstiviestit",
        "lopettakaa tekstiviestit", "lopeta viestien lähettäminen",
        "lopettakaa viestien lähettäminen", "lopeta lähettäminen", "älä lähetä enää",
        "älä lähetä enää viestejä", "älä lähetä viestejä", "älkää lähettäkö enää",
        "älkää lähettäkö enää viestejä", "älkää lähettäkö viestejä", "ei enää viestejä",
        "en halua viestejä", "en halua enää viestejä", "ei kiitos", "poista minut",
        "poista minut listalta",
    ),
    "sv": (
        "sluta skicka", "sluta skicka sms", "sluta skicka meddelanden", "sluta skicka mig sms",
        "sluta sms:a", "avsluta prenumerationen", "avsluta prenumeration", "avregistrera mig",
        "avanmäl mig", "ta bort mig", "ta bort mig från listan", "nej tack", "inga fler sms",
        "inga fler meddelanden", "skicka inte fler sms", "skicka inga fler sms",
        "skicka inte mer", "vill inte ha sms", "jag vill inte ha sms", "stoppa sms",
    ),
}  # fmt: skip

# Words that may stand before or after a keyword or phrase without changing it:
# "STOP please", "please stop texting me", "lopeta nyt", "sluta tack".
COURTESY_WORDS = (
    "please", "pls", "plz", "thanks", "thank you", "thx", "now",
    "kiitos", "kiitti", "nyt", "heti",
    "tack", "nu", "genast",
)  # fmt: skip


def fold(text: str) -> str:
    """The words of a message, for comparing: NFKC, case-folded, accents dropped ("ä" -> "a",
    so "ala laheta enaa" typed without them still matches), everything but letters and digits
    a single space ("Opt-out!" -> "opt out", "STOP 🙏" -> "stop")."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


def _folded(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(entry) for entry in entries)


OPT_OUTS = _folded(
    entry
    for table in (OPT_OUT_KEYWORDS, OPT_OUT_PHRASES)
    for entries in table.values()
    for entry in entries
)
_COURTESY = sorted((fold(w).split() for w in COURTESY_WORDS), key=len, reverse=True)


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
# A number that is the message's last word: after a space, a comma, a colon, an opening bracket
# or a quote (not glued to a word, not "#123", "9.5" or "-1"), optionally "out of" the scale
# ("8/10"). Punctuation and emoji after it are cut off first (_final_number).
_FINAL_NUMBER = re.compile(r"(?:^|(?<=[\s,;:(\[\"']))(?P<number>[0-9]+)(?:\s*/\s*[0-9]+)?$")
# What may separate the score from the comment: spaces, punctuation, dashes.
_SEPARATORS = " \t\r\n.,;:!?-–—/()[]\"'*"
_WORD_SCORE_ENDS = ".,;:!-–—/"


class SmsReading(Struct, frozen=True):
    """What a reply says.

    kind: score (a valid score, maybe a comment), stop (an opt-out keyword or phrase),
    out-of-range (a whole number outside the metric's scale), unreadable (anything else, empty
    and ambiguous replies included).
    """

    kind: Literal["score", "stop", "out-of-range", "unreadable"]
    score: int | None = None
    comment: str | None = None


def normalize(body: str) -> str:
    """NFKC folds full-width digits and compatibility forms (line breaks are kept)."""
    return unicodedata.normalize("NFKC", body).strip()


def _forms(folded: str) -> Iterator[str]:
    """The message, and every form of it with courtesy words cut from its start and its end
    ("please, no thank you" -> "no thank you"; "nej tack" stays a phrase itself); a word
    repeated right after itself counts once ("stop stop stop" -> "stop")."""
    split = folded.split()
    words = [w for i, w in enumerate(split) if i == 0 or w != split[i - 1]]
    starts = _courtesy_cuts(words)
    ends = [len(words) - cut for cut in _courtesy_cuts(words[::-1], reverse=True)]
    for first in starts:
        for last in ends:
            if first < last:
                yield " ".join(words[first:last])


def _courtesy_cuts(words: list[str], *, reverse: bool = False) -> list[int]:
    """Where the message may start once only courtesy words are cut before it: 0, and every
    position the words before which are all courtesy words."""
    cuts, position = [0], 0
    found = True
    while found:
        found = False
        for courtesy in _COURTESY:
            size = len(courtesy)
            wanted = courtesy[::-1] if reverse else courtesy
            if words[position : position + size] == wanted:
                position += size
                cuts.append(position)
                found = True
                break
    return cuts


def is_opt_out(body: str) -> bool:
    """The whole message is an opt-out keyword or phrase ("STOP", "Lopeta!", "sluta tack",
    "Please stop texting me"); one inside a longer message is not ("9 stop", "stopping by")."""
    return any(form in OPT_OUTS for form in _forms(fold(body)))


def _comment(rest: str) -> str | None:
    # Stored clean: no control or bidi-override characters (safe_text.py).
    comment = clean_text(rest).lstrip(_SEPARATORS).rstrip()
    # Punctuation only ("10!!!") is no comment; anything with a letter, digit or emoji is.
    if not comment or all(unicodedata.category(c)[0] in "PZ" for c in comment):
        return None
    return comment[:MAX_REPLY_COMMENT]


def read_reply(body: str, metric: str) -> SmsReading:
    """Read a reply to a survey that asked for `metric` (its scale decides what is in range)."""
    if is_opt_out(body):
        return SmsReading("stop")
    text = normalize(body).lstrip(_SEPARATORS.replace("-", "").replace("+", ""))
    low, high = scale_of(metric)
    leading = _leading_score(text, low, high)
    final = _final_number(text)
    if leading is not None:
        if leading.kind == "score" and final is not None and low <= final[1] <= high:
            return SmsReading("unreadable")  # "9 fast, 10 next time?": which one is the score?
        return leading
    if final is None:
        return SmsReading("unreadable")
    comment, value = final
    if any(c.isdigit() for c in comment):
        return SmsReading("unreadable")  # "Order 12345 came late 2": not only one number
    if not low <= value <= high:
        return SmsReading("out-of-range")  # "My order 12345", "service 11"
    return SmsReading("score", value, _comment(comment))


def _leading_score(text: str, low: int, high: int) -> SmsReading | None:
    """The reading of a number (or number word) the message starts with; None when it starts
    with neither, or with a number word that begins a sentence ("One thing was wrong")."""
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
        return None
    value = NUMBER_WORDS.get(word["word"].casefold())
    rest = word["rest"]
    # "nine" or "nine, quick delivery" is a score; "One thing was wrong" is a sentence.
    if value is None or (rest.strip() and rest.lstrip()[0] not in _WORD_SCORE_ENDS):
        return None
    return _on_scale(value, rest, low, high)


def _final_number(text: str) -> tuple[str, int] | None:
    """(the comment around it, the number) when the message ends with a number standing alone
    after some text; None otherwise (a message that is only a number is a leading score).

    After the number may come punctuation and emoji ("10!", "10 👍"), not "%" or "#": "10%"
    is no score. An emoji after the number stays in the comment."""
    end = len(text)
    while end and _trails(text[end - 1]):
        end -= 1
    found = _FINAL_NUMBER.search(text, 0, end)
    if found is None or not text[: found.start()].strip(_SEPARATORS):
        return None
    head, tail = text[: found.start()].rstrip(_SEPARATORS), text[end:].strip()
    emoji = tail if any(unicodedata.category(c)[0] not in "PZ" for c in tail) else ""
    return " ".join(part for part in (head, emoji) if part), int(found["number"])


def _trails(character: str) -> bool:
    """May follow a final score: punctuation, spaces, emoji (symbols, their modifiers, variation
    selectors and joiners); not a percent, per mille or number sign."""
    if character in "%‰‱#№":
        return False
    category = unicodedata.category(character)
    return category[0] in "PZ" or category in {"So", "Sk", "Mn", "Me", "Cf"}


def _on_scale(value: int, rest: str, low: int, high: int) -> SmsReading:
    if not low <= value <= high:
        return SmsReading("out-of-range")
    return SmsReading("score", value, _comment(rest))
