"""Which answers become callback tasks: the template's rule pattern and each survey's rule."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from moto.events.models import EventPattern
from samtranslator.yaml_helper import yaml_parse
from survey_core.catalogue import BusinessHours, load_catalogue
from survey_core.rules.escalation import (
    KEYWORD_FLAG,
    detail_pattern,
    escalation_reasons,
    keyword_match,
    rule_for,
    scheduled_time,
)
from survey_core.rules.scoring import SCALES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue()
HELSINKI = ZoneInfo("Europe/Helsinki")


@functools.cache  # template.yaml read once, not once per score of every scale
def _template_pattern() -> dict:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    events = template["Resources"]["EscalateFunction"]["Properties"]["Events"]
    return events["Detractors"]["Properties"]["Pattern"]


def _matches(detail: dict) -> bool:
    event = {
        "source": "customer-feedback.surveys",
        "detail-type": "Survey Response Received",
        "detail": detail,
    }
    return EventPattern.load(json.dumps(_template_pattern())).matches_event(event)


def test_the_template_pattern_is_the_one_the_catalogue_asks_for() -> None:
    assert _template_pattern()["detail"] == detail_pattern(CATALOGUE)


# Every metric's whole scale, every survey that asks it: the rule invokes the function exactly
# for the scores at or below the threshold (at, just below, just above and the ends included).
CASES = [
    (survey.id, metric, score)
    for survey in CATALOGUE.surveys
    for metric in survey.metrics
    for score in range(SCALES[metric][0], SCALES[metric][1] + 1)
]


@pytest.mark.parametrize(("survey_id", "metric", "score"), CASES)
def test_scores_at_or_below_the_threshold_escalate_and_no_others(
    survey_id: str, metric: str, score: int
) -> None:
    rule = rule_for(CATALOGUE, survey_id)
    threshold = rule.scores[metric]
    detail = {"surveyId": survey_id, "scores": {metric: score}, KEYWORD_FLAG: False}
    expected = score <= threshold
    assert _matches(detail) is expected
    assert bool(escalation_reasons(rule, {metric: score}, False)) is expected


def test_the_defaults_are_nps_6_csat_2_ces_3() -> None:
    assert rule_for(CATALOGUE, "survey-that-left").scores == {"nps": 6, "csat": 2, "ces": 3}
    assert rule_for(CATALOGUE, "service-contact").scores == {"csat": 2, "ces": 3}


def test_a_keyword_in_the_comment_escalates_a_high_score() -> None:
    rule = rule_for(CATALOGUE, "post-purchase")
    assert keyword_match(rule, "Teen REKLAMAATION huomenna")  # inflected, any case
    assert not keyword_match(rule, "Kaikki hyvin")
    assert not keyword_match(rule, None)
    assert escalation_reasons(rule, {"nps": 10}, True) == ["comment keyword"]
    assert escalation_reasons(rule, {"nps": 3}, True) == ["nps 3 <= 6", "comment keyword"]
    assert _matches({"scores": {"nps": 10}, KEYWORD_FLAG: True})
    assert not _matches({"scores": {"nps": 10}, KEYWORD_FLAG: False})
    assert not _matches({"scores": {"nps": 10}})  # older events without the flag


def test_one_answer_with_two_low_scores_names_both() -> None:
    rule = rule_for(CATALOGUE, "service-contact")
    assert escalation_reasons(rule, {"csat": 1, "ces": 2}, False) == ["csat 1 <= 2", "ces 2 <= 3"]


WEEKDAYS_8_TO_16 = BusinessHours(
    frozenset(range(5)), *(datetime(2026, 1, 1, h).time() for h in (8, 16))
)


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        ("2026-11-16T10:00", None),  # Monday inside: at once
        ("2026-11-16T08:00", None),  # opening minute
        ("2026-11-16T07:59", "2026-11-16T08:00"),  # before opening: today
        ("2026-11-16T16:00", "2026-11-17T08:00"),  # closing time: tomorrow
        ("2026-11-20T18:30", "2026-11-23T08:00"),  # Friday evening: Monday
        ("2026-11-21T12:00", "2026-11-23T08:00"),  # Saturday
        ("2026-03-27T17:00", "2026-03-30T08:00"),  # across the spring DST change (EET->EEST)
    ],
)
def test_tasks_are_scheduled_inside_business_hours(local_now: str, expected: str | None) -> None:
    now = datetime.fromisoformat(local_now).replace(tzinfo=HELSINKI)
    when = scheduled_time(now.astimezone(UTC), WEEKDAYS_8_TO_16, HELSINKI)
    if expected is None:
        assert when is None
    else:
        assert when == datetime.fromisoformat(expected).replace(tzinfo=HELSINKI)
    assert scheduled_time(now, None, HELSINKI) is None
