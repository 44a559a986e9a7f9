"""Reading SMS replies: the table of what people really type."""

from pathlib import Path

import pytest
from survey_core.messages.i18n import SUPPORTED_LANGUAGES, text
from survey_core.messages.sms import sms_size
from survey_core.rules.scoring import scale_of
from survey_core.rules.sms_reply import (
    COURTESY_WORDS,
    MAX_REPLY_COMMENT,
    OPT_OUT_KEYWORDS,
    OPT_OUT_PHRASES,
    SmsReading,
    fold,
    is_opt_out,
    read_reply,
)

pytestmark = pytest.mark.unit

SCORE = "score"

READINGS = [
    # body, metric, expected reading
    ("9", "nps", SmsReading(SCORE, 9)),
    ("0", "nps", SmsReading(SCORE, 0)),
    ("10", "nps", SmsReading(SCORE, 10)),
    ("10!", "nps", SmsReading(SCORE, 10)),
    ("10!!!", "nps", SmsReading(SCORE, 10)),
    ("  7  ", "nps", SmsReading(SCORE, 7)),
    ("9 great service", "nps", SmsReading(SCORE, 9, "great service")),
    ("9, great service", "nps", SmsReading(SCORE, 9, "great service")),
    ("9 - toimitus oli nopea", "nps", SmsReading(SCORE, 9, "toimitus oli nopea")),
    ("8. Bra service!", "nps", SmsReading(SCORE, 8, "Bra service!")),
    ("9/10", "nps", SmsReading(SCORE, 9)),
    ("9 / 10 thanks", "nps", SmsReading(SCORE, 9, "thanks")),
    ("３", "nps", SmsReading(SCORE, 3)),  # full-width digit from a CJK keyboard
    ("9\n\nKiitos!", "nps", SmsReading(SCORE, 9, "Kiitos!")),
    ("6 <script>alert(1)</script>", "nps", SmsReading(SCORE, 6, "<script>alert(1)</script>")),
    ("9 👍", "nps", SmsReading(SCORE, 9, "👍")),
    ('"8"', "nps", SmsReading(SCORE, 8)),
    ("nine", "nps", SmsReading(SCORE, 9)),
    ("Nine, quick delivery", "nps", SmsReading(SCORE, 9, "quick delivery")),
    ("yhdeksän!", "nps", SmsReading(SCORE, 9)),
    ("kymmenen - kiitos", "nps", SmsReading(SCORE, 10, "kiitos")),
    ("tio", "nps", SmsReading(SCORE, 10)),
    ("Åtta.", "nps", SmsReading(SCORE, 8)),
    ("5", "csat", SmsReading(SCORE, 5)),
    ("1 huono", "csat", SmsReading(SCORE, 1, "huono")),
    ("7", "ces", SmsReading(SCORE, 7)),
    # out of the metric's range: one help reply
    ("11", "nps", SmsReading("out-of-range")),
    ("100", "nps", SmsReading("out-of-range")),
    ("-1", "nps", SmsReading("out-of-range")),
    ("9.5", "nps", SmsReading("out-of-range")),
    ("9,5", "nps", SmsReading("out-of-range")),
    ("0", "csat", SmsReading("out-of-range")),
    ("6", "csat", SmsReading("out-of-range")),
    ("8", "ces", SmsReading("out-of-range")),
    ("ten", "csat", SmsReading("out-of-range")),
    # unreadable: one help reply
    ("", "nps", SmsReading("unreadable")),
    ("   ", "nps", SmsReading("unreadable")),
    ("great service", "nps", SmsReading("unreadable")),
    ("Delivery took 2 days", "nps", SmsReading("unreadable")),
    ("One thing was wrong", "nps", SmsReading("unreadable")),
    ("9am works", "nps", SmsReading("unreadable")),
    ("👍", "nps", SmsReading("unreadable")),
    ("?", "nps", SmsReading("unreadable")),
    # a score at the end: the last word, the only number; the text before it is the comment
    ("Loppu hyvin kaikki hyvin 10", "nps", SmsReading(SCORE, 10, "Loppu hyvin kaikki hyvin")),
    ("great service, 9!", "nps", SmsReading(SCORE, 9, "great service")),
    ("nopea toimitus 8/10", "nps", SmsReading(SCORE, 8, "nopea toimitus")),
    ("Bra service (4)", "csat", SmsReading(SCORE, 4, "Bra service")),
    ("One thing was wrong: 3", "nps", SmsReading(SCORE, 3, "One thing was wrong")),
    ("kiitos 10", "nps", SmsReading(SCORE, 10, "kiitos")),
    ("great service 11", "nps", SmsReading("out-of-range")),
    ("helppoa 8", "ces", SmsReading("out-of-range")),
    # ambiguous: no score we could be sure the customer gave, so one help reply
    ("9 fast delivery, next time 10", "nps", SmsReading("unreadable")),  # leading AND trailing
    ("8 great 8", "nps", SmsReading("unreadable")),
    ("Order 12345 came late 2", "nps", SmsReading("unreadable")),  # an order number and a 2
    ("Delivery took 2 days, 8", "nps", SmsReading("unreadable")),  # two numbers
    ("My order 12345", "nps", SmsReading("out-of-range")),  # an order number is no score
    ("order #7", "nps", SmsReading("unreadable")),  # "#7" is an id, not a number alone
    ("rated 9.5", "nps", SmsReading("unreadable")),
    ("great -1", "nps", SmsReading("unreadable")),
    ("great10", "nps", SmsReading("unreadable")),  # glued to a word
    ("Great service 10 👍", "nps", SmsReading(SCORE, 10, "Great service 👍")),
    ("hyvä palvelu 9 ❤️!", "nps", SmsReading(SCORE, 9, "hyvä palvelu ❤️!")),
    ("discount 10%", "nps", SmsReading("unreadable")),  # a percentage is no score
    ("price 10€", "nps", SmsReading("unreadable")),
    # a score at the start keeps its rest as the comment, numbers or stop words in it included
    ("10 stars", "nps", SmsReading(SCORE, 10, "stars")),
    ("9 delivered in 2 days", "nps", SmsReading(SCORE, 9, "delivered in 2 days")),
    ("9 fast delivery, 10 next time", "nps", SmsReading(SCORE, 9, "fast delivery, 10 next time")),
    ("10, order 12345", "nps", SmsReading(SCORE, 10, "order 12345")),  # 12345: not on the scale
    ("9 stop", "nps", SmsReading(SCORE, 9, "stop")),
    # opt-outs: the whole message, any case, Finnish / Swedish / English
    ("STOP", "nps", SmsReading("stop")),
    ("stop", "nps", SmsReading("stop")),
    ("Stop.", "nps", SmsReading("stop")),
    ("STOP please", "nps", SmsReading("stop")),
    ("UNSUBSCRIBE", "nps", SmsReading("stop")),
    ("LOPETA", "nps", SmsReading("stop")),
    ("lopeta!", "nps", SmsReading("stop")),
    ("Lopetus", "nps", SmsReading("stop")),
    ("SLUTA", "nps", SmsReading("stop")),
    ("Avsluta tack", "nps", SmsReading("stop")),
    ("STOPP", "nps", SmsReading("stop")),
    ("  quit  ", "csat", SmsReading("stop")),
    ("Loppu", "nps", SmsReading("stop")),
]


@pytest.mark.parametrize(
    ("body", "metric", "expected"), READINGS, ids=[r[0] or "empty" for r in READINGS]
)
def test_a_reply_reads_as_people_mean_it(body: str, metric: str, expected: SmsReading) -> None:
    assert read_reply(body, metric) == expected


def test_the_table_covers_at_least_thirty_replies() -> None:
    assert len(READINGS) >= 30
    assert {r[2].kind for r in READINGS} == {"score", "stop", "out-of-range", "unreadable"}


ALL_OPT_OUTS = [
    (language, entry)
    for table in (OPT_OUT_KEYWORDS, OPT_OUT_PHRASES)
    for language, entries in table.items()
    for entry in entries
]


@pytest.mark.parametrize(("language", "entry"), ALL_OPT_OUTS, ids=[e for _, e in ALL_OPT_OUTS])
def test_every_keyword_and_phrase_opts_out_however_it_is_typed(language: str, entry: str) -> None:
    # Given an opt-out from the table, When it is typed in capitals or small letters, with
    # punctuation, spaces, an emoji or a courtesy word around it, Then it opts out
    for metric in ("nps", "csat", "ces"):
        assert read_reply(entry, metric) == SmsReading("stop"), (language, entry, metric)
    for typed in (
        entry.upper(),
        f"  {entry.capitalize()}!  ",
        f"{entry}.",
        f'"{entry}"',
        f"{entry} 🙏",
        f"please, {entry}",
        f"{entry} kiitos!",
        f"{entry} tack",
        entry.replace(" ", "  \n "),
    ):
        assert is_opt_out(typed), (language, typed)


def test_the_opt_out_tables_cover_the_three_languages_and_the_required_keywords() -> None:
    assert set(OPT_OUT_PHRASES) == {"en", "fi", "sv"}
    assert set(OPT_OUT_KEYWORDS) == {"carrier", "fi", "sv"}
    # End User Messaging's required opt-out keywords (docs: "Required opt-out keywords")
    for keyword in ("ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP"):
        assert is_opt_out(keyword), keyword
    assert all(is_opt_out(w) for w in ("TD", "UNSUBSCRIBE", "STOPALL", "REVOKE", "opt out"))


@pytest.mark.parametrize(
    "typed",
    ["STOP", "stop!", "Stop...", "  sToP  ", "STOP STOP STOP", "stop, please", "Please STOP",
     "Lopeta nyt!", "LOPETA KIITOS", "sluta tack!", "Sluta nu", "stop now thank you",
     "Stop texting me, please!", "ÄLÄ LÄHETÄ ENÄÄ!!", "ala laheta enaa", "Opt-Out", "opt out",
     "Nej tack.", "AVANMÄL", "avanmal", "Sluta sms:a!", "stop 😡"],
)  # fmt: skip
def test_an_opt_out_is_read_whatever_its_case_accents_and_punctuation(typed: str) -> None:
    assert read_reply(typed, "nps") == SmsReading("stop")


# Replies that contain a stop word, or start like an opt-out, but are not one: the whole message
# must be the keyword or phrase. What each is read as instead.
NOT_OPT_OUTS = [
    ("Loppu hyvin kaikki hyvin 10", SmsReading(SCORE, 10, "Loppu hyvin kaikki hyvin")),
    ("no stop to the great service 10", SmsReading(SCORE, 10, "no stop to the great service")),
    ("end of story: 3", SmsReading(SCORE, 3, "end of story")),
    # A complaint about reminders with a score: the score answers, which ends this survey's
    # reminders (what was asked); the number is not suppressed for other surveys, and the
    # comment tells the people reading the report.
    (
        "stop sending me reminders after I answered 9",
        SmsReading(SCORE, 9, "stop sending me reminders after I answered"),
    ),
    ("9 stop", SmsReading(SCORE, 9, "stop")),
    ("10 - lopeta jo", SmsReading(SCORE, 10, "lopeta jo")),
    ("Sluta aldrig med det här, 10", SmsReading(SCORE, 10, "Sluta aldrig med det här")),
    ("stopping by tomorrow", SmsReading("unreadable")),
    ("ending", SmsReading("unreadable")),
    ("lopetan", SmsReading("unreadable")),
    ("Loppu hyvin kaikki hyvin", SmsReading("unreadable")),
    ("Stop the delivery, it is wrong", SmsReading("unreadable")),
    ("cancel my order", SmsReading("unreadable")),
    ("peru tilaus", SmsReading("unreadable")),  # "cancel the order": customer service
    ("peruuta tilaus", SmsReading("unreadable")),
    ("Quit asking?", SmsReading("unreadable")),
    ("End", SmsReading("stop")),  # control: the keyword alone is one
]


@pytest.mark.parametrize(("body", "expected"), NOT_OPT_OUTS, ids=[b for b, _ in NOT_OPT_OUTS])
def test_a_stop_word_inside_a_longer_message_is_no_opt_out(body: str, expected: SmsReading) -> None:
    assert read_reply(body, "nps") == expected
    assert is_opt_out(body) == (expected.kind == "stop")


def test_courtesy_words_alone_are_no_opt_out() -> None:
    for word in COURTESY_WORDS:
        assert not is_opt_out(word), word
        assert not is_opt_out(f"{word} {word}"), word


def test_fold_keeps_letters_and_digits_only() -> None:
    assert fold("  Älä LÄHETÄ enää!! 🙏 ") == "ala laheta enaa"
    assert fold("Opt-Out.") == "opt out"
    assert fold("ＳＴＯＰ") == "stop"  # full-width letters
    assert fold("stop 2") == "stop 2"


def test_the_docs_list_every_keyword_phrase_and_courtesy_word() -> None:
    # docs/sms-replies.md is the table people read: it cannot drift from the code.
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sms-replies.md").read_text("utf-8")
    listed = {fold(cell) for cell in docs.replace("|", ",").replace("`", ",").split(",")}
    for _, entry in ALL_OPT_OUTS:
        assert fold(entry) in listed, entry
    for word in COURTESY_WORDS:
        assert fold(word) in listed, word
    for body, _ in NOT_OPT_OUTS[:4]:
        assert body in docs, body


def test_a_long_comment_is_cut_to_the_survey_page_cap() -> None:
    reading = read_reply("9 " + "å" * (MAX_REPLY_COMMENT + 200), "nps")
    assert reading.score == 9
    assert reading.comment == "å" * MAX_REPLY_COMMENT


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_the_help_reply_fits_one_gsm7_segment_and_names_the_scale(
    language: str, metric: str
) -> None:
    low, high = scale_of(metric)
    help_text = text(language, "sms_help", low=low, high=high)
    assert sms_size(help_text).single_gsm7
    assert str(low) in help_text and str(high) in help_text
