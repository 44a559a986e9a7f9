"""Escalation rules and follow-up: which answers become callback tasks, when a task is
scheduled, and whether the team met its SLA. Pure: no AWS calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .catalogue import (
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


# ---------------------------------------------------------------- follow-up (contact events)

CONNECTED = "connected_at"
DONE = ("disconnected_at", "completed_at")


@dataclass(frozen=True)
class FollowUp:
    """What the contact events say so far; the same whatever order they came in."""

    seconds_to_agent: int | None
    done_at: datetime | None
    sla: str  # open | met | missed


def earliest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def follow_up(
    escalated_at: datetime,
    sla_hours: int,
    connected_at: datetime | None,
    done_at: datetime | None,
) -> FollowUp:
    """Time to agent from the task's creation; SLA met when the task was done (disconnected or
    completed) within sla_hours of its creation. Undone tasks stay open (reports count an open
    task past its due time as missed)."""
    to_agent = None
    if connected_at is not None:
        to_agent = max(0, int((connected_at - escalated_at).total_seconds()))
    if done_at is None:
        return FollowUp(to_agent, None, "open")
    met = done_at <= escalated_at + timedelta(hours=sla_hours)
    return FollowUp(to_agent, done_at, "met" if met else "missed")
