"""Storing an answer, whichever channel brought it: the survey page's form (logic/collect.py)
or an SMS reply (logic/replies.py). Apart from the pages, so the SMS replies' function does not
load the page templates (Jinja2) it never renders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from msgspec import Struct

from ..catalogue import Catalogue
from ..config import CollectConfig
from ..domain.invitations import OPEN, Invitation
from ..domain.responses import Answer, Responses
from ..rules.escalation import escalation_reasons, keyword_match, rule_for
from .counting import answer_counts, answered_after, counting_day


class Answered(Struct, frozen=True):
    """What an answer was, for metrics: no ids, scores or text."""

    channel: str
    first_answer: bool
    # The survey's escalation rule makes this answer a callback task (a detractor score or a
    # comment keyword).
    detractor: bool
    # The same inbound SMS applied before (a redelivery): nothing stored, counted or published.
    duplicate: bool = False


def accepts_answers(invitation: Invitation, now: datetime) -> bool:
    """Open and inside its validity window. The lifecycle marks an invitation expired when the
    window ends; the time is checked too, so an answer is refused from that moment on."""
    if invitation.status not in OPEN:
        return False
    return invitation.closes_at is None or now < datetime.fromisoformat(invitation.closes_at)


def answer(
    invitation: Invitation,
    scores: Mapping[str, int],
    comment: str | None,
    *,
    keep_comment: bool,
    config: CollectConfig,
    catalogue: Catalogue,
    responses: Responses,
    channel: str = "web",
    inbound_id: str | None = None,
) -> Answered:
    """Store the answer (response, invitation status and counters in one transaction). Its
    consequences follow from the stored response (logic/outbox.py), not from this request."""
    now = config.clock()
    after = answered_after(invitation, channel)
    stored = responses.store_answer(
        invitation,
        Answer(
            scores=scores,
            comment=comment,
            keep_comment=keep_comment,
            channel=channel,
            at=now,
            day=counting_day(now, config.reporting_time_zone),
            expires_at=now + timedelta(days=config.retention.responses),
            first_answer_counts=answer_counts(after),
            inbound_id=inbound_id,
            answered_via=after.via,
            after_step=after.step,
        ),
    )
    if stored.duplicate:
        return Answered(channel=channel, first_answer=False, detractor=False, duplicate=True)
    response = stored.response
    rule = rule_for(catalogue, invitation.survey_id)
    scores_now = response.scores
    return Answered(
        channel=channel,
        first_answer=stored.first_answer,
        detractor=bool(escalation_reasons(rule, scores_now, keyword_match(rule, response.comment))),
    )
