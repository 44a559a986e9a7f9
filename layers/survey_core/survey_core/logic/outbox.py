"""The transactional outbox of answers: what a stored answer implies follows from the stored
answer itself (the responses table's stream), not from the request that stored it.

The collect function (a survey page or an SMS reply) commits the response, the invitation's
status and the counters in one transaction and answers the customer. Every new revision of a
response then reaches this use case through DynamoDB Streams:

- the first answer ends the survey lifecycle's wait, so no reminder follows it;
- every revision is published as Survey Response Received (with its revision number), which
  the escalate rule matches.

Lambda delivers stream records at least once (a failed record is retried, and so are the
records after it in its shard); the effects are exactly once: Step Functions refuses to end a
wait twice (ignored here), the escalation is claimed once per invitation, and subscribers can
tell a repeat by invitation id and revision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

from ..catalogue import Catalogue
from ..dal.gateways import EventBus, Lifecycle
from ..domain.invitations import Invitations
from ..domain.responses import Response
from ..rules.escalation import KEYWORD_FLAG, keyword_match, rule_for

RESPONSE_RECEIVED = "Survey Response Received"


class OutboxPorts(Struct, frozen=True):
    lifecycle: Lifecycle
    bus: EventBus
    invitations: Invitations


class StoredRevision(Struct, frozen=True):
    """A revision of a response, as the stream carries it."""

    response: Response
    first: bool  # no earlier revision: the survey's first answer


class OutboxResult(Struct, frozen=True):
    invitation_id: str
    revision: int
    # ended | no-longer-waiting | not-waiting | erased; None for a later revision (its
    # survey's wait ended with the first one)
    lifecycle: str | None


class UnreadableRecord(ValueError):
    """A stream record that holds no response this code can read (a bug or a foreign
    writer): retrying cannot fix it."""


def revision_of(
    record: Mapping[str, Any], read_image: Callable[[Mapping[str, Any]], Response]
) -> StoredRevision | None:
    """The new revision a stream record carries; None when it carries none: a deletion (TTL)
    or a write that left the revision as it was."""
    data = record.get("dynamodb") or {}
    new_image = data.get("NewImage")
    if record.get("eventName") not in ("INSERT", "MODIFY") or not new_image:
        return None
    try:
        response = read_image(new_image)
        revision = int(response.revision)
        old_image = data.get("OldImage") or {}
        previous = int(old_image["revision"]["N"]) if "revision" in old_image else None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnreadableRecord(type(error).__name__) from None
    if previous is not None and previous >= revision:
        return None
    return StoredRevision(response, first=previous is None)


def response_received(response: Response, catalogue: Catalogue) -> dict[str, Any]:
    """The Survey Response Received detail of one revision (schema:
    survey-response-received.schema.json). The comment itself never goes on the bus: only
    whether there is one and whether it names an escalation keyword."""
    rule = rule_for(catalogue, str(response.survey_id))
    return {
        "version": "1",
        "invitationId": response.invitation_id,
        "surveyId": response.survey_id,
        "customerId": response.customer_id,
        "answeredAt": response.answered_at,
        "channel": response.channel,
        "scores": dict(response.scores),
        "hasComment": bool(response.comment),
        KEYWORD_FLAG: keyword_match(rule, response.comment),
        "revision": int(response.revision),
        "segment": dict(response.segment),
    }


def carry_out(revision: StoredRevision, catalogue: Catalogue, ports: OutboxPorts) -> OutboxResult:
    """End the lifecycle's wait (first answer only), then publish the revision. Either AWS call
    failing raises, so the record is retried: both are safe to repeat."""
    response = revision.response
    lifecycle = _end_wait(str(response.invitation_id), ports) if revision.first else None
    ports.bus.put(RESPONSE_RECEIVED, response_received(response, catalogue))
    return OutboxResult(str(response.invitation_id), int(response.revision), lifecycle)


def _end_wait(invitation_id: str, ports: OutboxPorts) -> str:
    """The invitation's task token is read after the answer was committed: a rung that stores
    its token later finds the invitation answered and ends its own wait (logic/send.py), so
    one of the two always ends the wait the lifecycle is in. The invitation itself is read only
    when no token is found, to tell why: an erasure deletes the wait with the invitation."""
    task_token = ports.invitations.task_token(invitation_id)
    if not task_token:
        # erased: the customer's data was erased meanwhile
        return "erased" if ports.invitations.get(invitation_id) is None else "not-waiting"
    if ports.lifecycle.answer(task_token, {"status": "answered"}):
        return "ended"
    return "no-longer-waiting"  # ended already: a repeated record, or the survey closed
