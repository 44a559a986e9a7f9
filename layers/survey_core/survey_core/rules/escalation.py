"""Escalation rules and follow-up: which answers become callback tasks, when a task is
scheduled, and whether the team met its SLA. Pure: no AWS calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..catalogue import (
    DEFAULT_ESCALATION_SCORES,
    DEFAULT_SLA_HOURS,
    BusinessHours,
    Catalogue,
    EscalationRule,
)
from .scoring import METRICS

KEYWORD_FLAG = "commentKeywordMatch"  # on Survey Response Received: the comment named a keyword
DEFAULT_RULE = EscalationRule(dict(DEFAULT_ESCALATION_SCORES), (), DEFAULT_SLA_HOURS, None)


def rule_for(catalogue: Catalogue, survey_id: str) -> EscalationRule:
    """The survey's rule; the defaults for a survey that has left the catalogue."""
    survey = catalogue.find(survey_id)
    return survey.escalation if survey is not None else DEFAULT_RULE


def keyword_match(rule: EscalationRule, comment: str | None) -> bool:
    """A keyword anywhere in the comment, case-insensitively. A substring, so Finnish and
    Swedish inflections count ("reklamaation", "reklamationen")."""
    if not comment or not rule.keywords:
        return False
    text = comment.casefold()
    return any(keyword in text for keyword in rule.keywords)


def escalation_reasons(
    rule: EscalationRule, scores: Mapping[str, Any], keyword_matched: bool
) -> list[str]:
    """Why this answer becomes a callback task ("nps 3 <= 6", "comment keyword"); none: no task."""
    reasons = [
        f"{metric} {int(score)} <= {rule.scores[metric]}"
        for metric, score in scores.items()
        if metric in rule.scores and int(score) <= rule.scores[metric]
    ]
    if keyword_matched:
        reasons.append("comment keyword")
    return reasons


def detail_pattern(catalogue: Catalogue) -> dict[str, Any]:
    """The `detail` part of the escalate rule's EventBridge pattern: per metric the highest
    threshold of any survey, or a keyword match. The function applies each survey's own rule;
    the pattern keeps every other answer from invoking it. template.yaml must carry exactly
    this (a unit test and `make check-catalogue` compare them)."""
    highest: dict[str, int] = {}
    for survey in catalogue.surveys:
        for metric, threshold in survey.escalation.scores.items():
            highest[metric] = max(threshold, highest.get(metric, threshold))
    alternatives: list[dict[str, Any]] = [
        {"scores": {metric: [{"numeric": ["<=", highest[metric]]}]}}
        for metric in METRICS
        if metric in highest
    ]
    if any(survey.escalation.keywords for survey in catalogue.surveys):
        alternatives.append({KEYWORD_FLAG: [True]})
    return {"$or": alternatives}


def scheduled_time(now: datetime, hours: BusinessHours | None, zone: ZoneInfo) -> datetime | None:
    """When the task should reach an agent: None (at once) inside business hours or without
    them, else the next opening. Connect takes a ScheduledTime up to 6 days ahead."""
    if hours is None:
        return None
    local = now.astimezone(zone)
    for days_ahead in range(8):
        day = (local + timedelta(days=days_ahead)).date()
        if day.weekday() not in hours.days:
            continue
        opens = datetime.combine(day, hours.start, zone)
        closes = datetime.combine(day, hours.end, zone)
        if days_ahead == 0 and opens <= local < closes:
            return None
        if local < opens:
            return opens
    return None  # no working day at all: never delay the task
