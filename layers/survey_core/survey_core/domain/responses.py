"""Responses: one per invitation, the latest answer to each of its questions; answering again
replaces it (its revision counts up) and moves the counters with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .invitations import Invitation


@dataclass(frozen=True)
class Response:
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


@dataclass(frozen=True)
class Comment:
    """A commented response as the comment-day index holds it."""

    invitation_id: str
    answered_at: str
    comment: str
    scores: dict[str, int]
    segment: dict[str, Any]


@dataclass(frozen=True)
class Answer:
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


@dataclass(frozen=True)
class StoredAnswer:
    response: Response
    first_answer: bool
    changed: bool
    duplicate: bool = False  # the inbound message was applied before: nothing was written


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
