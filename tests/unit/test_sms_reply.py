"""Reading SMS replies: the table of what people really type."""

import pytest
from survey_core.i18n import SUPPORTED_LANGUAGES, text
from survey_core.scoring import scale_of
from survey_core.sms import sms_size
from survey_core.sms_reply import MAX_REPLY_COMMENT, SmsReading, is_stop, read_reply

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
    # stop words, any case, Finnish / Swedish / English
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
]


@pytest.mark.parametrize(
    ("body", "metric", "expected"), READINGS, ids=[r[0] or "empty" for r in READINGS]
)
def test_a_reply_reads_as_people_mean_it(body: str, metric: str, expected: SmsReading) -> None:
    assert read_reply(body, metric) == expected


def test_the_table_covers_at_least_thirty_replies() -> None:
    assert len(READINGS) >= 30
    assert {r[2].kind for r in READINGS} == {"score", "stop", "out-of-range", "unreadable"}


@pytest.mark.parametrize("body", ["stopping by tomorrow", "ending", "9 stop", "lopetan"])
def test_only_a_leading_stop_word_opts_out(body: str) -> None:
    assert not is_stop(body)


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
