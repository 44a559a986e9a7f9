"""Responses: one per invitation, the latest answer to each of its questions; answering again
replaces it (its revision counts up) and moves the counters with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct, field

from ..clock import iso
from .counters import Counts, histogram_moves
from .invitations import Invitation

# SNS delivers at least once and Lambda retries a failed invocation (twice, within minutes), so
# a redelivery comes soon after the original; 20 replies to one invitation is far beyond what
# a customer sends, and 20 ids of 36 characters keep the item small.
INBOUND_IDS_KEPT = 20


class Response(Struct, frozen=True):
    invitation_id: str
    survey_id: str
    customer_id: str
    scores: dict[str, int]
    channel: str
    bucket_day: str  # the day counted in the counters; kept on changes
    first_answered_at: str
    answered_at: str
    revision: int
    comment: str | None = None
    segment: dict[str, Any] = field(default_factory=dict)
    comment_day: str | None = None  # "{survey_id}#{bucket_day}", only with a comment
    expires_at: datetime | None = None
    # The first answer's place in the ladder (logic/counting.answered_after): the channel it
    # came through and the step it came after; absent where no message had reached the customer.
    answered_via: str | None = None
    after_step: int | None = None
    # The inbound SMS ids applied, oldest first (the last INBOUND_IDS_KEPT): a redelivered reply
    # is recognised and changes nothing.
    inbound_ids: list[str] | None = None


class Comment(Struct, frozen=True):
    """A commented response as the comment-day index holds it."""

    invitation_id: str
    answered_at: str
    comment: str
    scores: dict[str, int]
    segment: dict[str, Any]


class Answer(Struct, frozen=True):
    """One answer to store: scores of some questions, maybe a comment."""

    scores: Mapping[str, int]
    comment: str | None
    keep_comment: bool  # a bare SMS score keeps the comment given before
    channel: str
    at: datetime
    day: str  # the counting day of a first answer
    expires_at: datetime
    first_answer_counts: Mapping[str, int] | None = None  # per response: the rate counters
    inbound_id: str | None = None  # an SMS reply's id: applied once
    answered_via: str | None = None
    after_step: int | None = None


class StoredAnswer(Struct, frozen=True):
    response: Response
    first_answer: bool
    changed: bool
    duplicate: bool = False  # the inbound message was applied before: nothing was written


class Revision(Struct, frozen=True):
    """What storing an answer writes: the new response and the counts it moves."""

    response: Response
    counts: list[Counts]
    changed: bool  # a score's count moved


def revise(invitation: Invitation, existing: Response | None, answer: Answer) -> Revision | None:
    """The response an answer makes of the stored one (None when that holds the answer's
    inbound id already: a redelivery changes nothing), and its counts: a score counts once per
    response and a changed score moves its count; a first answer adds the rate counters. A
    changed answer keeps its counted day, its first answer's time, channel step (answered_via,
    after_step) and, with keep_comment, its comment."""
    applied = list(existing.inbound_ids or []) if existing else []
    if answer.inbound_id is not None:
        if answer.inbound_id in applied:
            return None
        applied = [*applied, answer.inbound_id][-INBOUND_IDS_KEPT:]
    now = iso(answer.at)
    old_scores = existing.scores if existing else {}
    comment = (existing.comment if existing and answer.keep_comment else answer.comment) or None
    bucket_day = existing.bucket_day if existing else answer.day
    segment = dict(invitation.segment)
    response = Response(
        invitation.invitation_id,
        survey_id=invitation.survey_id,
        customer_id=invitation.customer_id,
        scores={**old_scores, **answer.scores},
        comment=comment,
        channel=answer.channel,
        bucket_day=bucket_day,
        first_answered_at=existing.first_answered_at if existing else now,
        answered_at=now,
        revision=existing.revision + 1 if existing else 1,
        segment=segment,
        comment_day=f"{invitation.survey_id}#{bucket_day}" if comment else None,
        expires_at=answer.expires_at,
        inbound_ids=applied or None,
        answered_via=existing.answered_via if existing else answer.answered_via,
        after_step=existing.after_step if existing else answer.after_step,
    )
    moves = histogram_moves(old_scores, answer.scores)
    counts = [
        Counts(
            f"{invitation.survey_id}#{metric}",
            bucket_day,
            segment,
            {f"s{score}": 1, **({"n": 1} if previous is None else {f"s{previous}": -1})},
        )
        for metric, previous, score in moves
    ]
    if existing is None and answer.first_answer_counts is not None:
        # Per response, not per metric: how many answered, through which channel, after a
        # reminder or not (report: response rates).
        add = {"n": 1, **answer.first_answer_counts}
        counts.append(Counts(f"{invitation.survey_id}#responses", answer.day, segment, add))
    return Revision(response, counts, changed=bool(moves))


class Responses(Protocol):
    def get(self, invitation_id: str) -> Response | None:
        """Read consistently; None when the invitation has no answer."""

    def store_answer(self, invitation: Invitation, answer: Answer) -> StoredAnswer:
        """Write the response, mark the invitation answered and move the counters, as one
        write: a score counts once per response, a changed score moves its count, a first
        answer adds the rate counters; an inbound id the response holds is a duplicate
        (nothing written). Concurrent answers are recomputed on the new state."""

    def recent_comments(self, survey_id: str, day: str, limit: int) -> Iterable[Comment]:
        """A survey's commented responses of one counted day, newest first, at most `limit`
        read."""
