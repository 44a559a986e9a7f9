"""The responses repository on DynamoDB (domain/responses.py): one item per invitation,
indexed by survey and counted day where it has a comment. An answer is one transaction with
the invitation's status and the counters it moves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from msgspec.structs import fields
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..clock import iso
from ..domain.invitations import OPEN, Invitation
from ..domain.responses import Answer, Comment, Response, StoredAnswer, revise
from . import models
from .counters import add_counts
from .writes import TRANSACTION_ATTEMPTS, backoff, retryable_transaction, transactions

Item = models.Response
FIELDS = tuple(f.name for f in fields(Response) if f.name not in ("scores", "segment"))


def _scores(item: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in item.scores.as_dict().items()} if item.scores else {}


def _segment(item: Any) -> dict[str, Any]:
    return dict(item.segment.as_dict()) if item.segment else {}


def response_of(item: models.Response) -> Response:
    values: dict[str, Any] = {name: getattr(item, name) for name in FIELDS}
    values["revision"] = int(item.revision)
    values["after_step"] = None if item.after_step is None else int(item.after_step)
    values["inbound_ids"] = [str(i) for i in item.inbound_ids] if item.inbound_ids else None
    return Response(**values, scores=_scores(item), segment=_segment(item))


def response_from_image(image: Mapping[str, Any]) -> Response:
    """A response as a DynamoDB stream record's image holds it (attribute-value JSON)."""
    return response_of(Item.from_raw_data(dict(image)))


class ResponseTable:
    def get(self, invitation_id: str) -> Response | None:
        try:
            return response_of(Item.get(invitation_id, consistent_read=True))
        except DoesNotExist:
            return None

    def store_answer(self, invitation: Invitation, answer: Answer) -> StoredAnswer:
        # The response's revision is the optimistic lock: a concurrent answer makes the
        # transaction fail and this one is recomputed from the new state, so counters always
        # equal the stored responses. The inbound id is written under the same lock, so two
        # deliveries of one SMS racing apply it once. answered_via and after_step are the first
        # answer's: a changed answer keeps them, as it keeps its counted day.
        connection = transactions(getattr(Item.Meta, "region", None))
        now = iso(answer.at)
        for attempt in range(TRANSACTION_ATTEMPTS):
            if attempt:
                backoff(attempt)
            existing = self.get(invitation.invitation_id)
            revision = revise(invitation, existing, answer)
            if revision is None:
                assert existing is not None
                return StoredAnswer(existing, first_answer=False, changed=False, duplicate=True)
            condition: Condition = (
                Item.invitation_id.does_not_exist()
                if existing is None
                else Item.revision == existing.revision
            )
            try:
                with TransactWrite(connection=connection) as transaction:
                    transaction.save(_item_of(revision.response), condition=condition)
                    invitations = models.Invitation
                    transaction.update(
                        invitations(invitation.invitation_id),
                        actions=[
                            invitations.status.set("answered"),
                            invitations.answered_at.set(now),
                            invitations.updated_at.set(now),
                        ],
                        condition=invitations.status.is_in(*sorted(OPEN)),
                    )
                    for counts in revision.counts:
                        add_counts(transaction, counts)
            except TransactWriteError as error:
                if retryable_transaction(error):
                    continue
                raise
            return StoredAnswer(
                revision.response, first_answer=existing is None, changed=revision.changed
            )
        raise RuntimeError("answer not stored: too much contention on one invitation")

    def recent_comments(self, survey_id: str, day: str, limit: int) -> Iterator[Comment]:
        for item in Item.by_comment_day.query(
            f"{survey_id}#{day}", scan_index_forward=False, limit=limit, page_size=limit
        ):
            if item.comment:
                yield Comment(
                    str(item.invitation_id),
                    str(item.answered_at),
                    str(item.comment),
                    _scores(item),
                    _segment(item),
                )


def _item_of(response: Response) -> models.Response:
    values = {name: getattr(response, name) for name in FIELDS if name != "invitation_id"}
    return Item(
        response.invitation_id,
        **values,
        scores=dict(response.scores),
        segment=dict(response.segment),
    )
