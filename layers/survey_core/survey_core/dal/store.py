"""Reads and writes of survey data, with the conditions that keep them exact under retries."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition, size
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..clock import iso
from ..domain.customers import day_of
from ..errors import IntentNotRecorded, NotRecorded
from ..rules.follow_up import MOMENTS, Contact, FollowUp, counter_moves
from .customers import CustomerTable
from .models import (
    SENDING,
    AggregateCounter,
    Attempt,
    ContactLink,
    Customer,
    Escalation,
    Invitation,
    Response,
)
from .writes import (
    TRANSACTION_ATTEMPTS,
    backoff,
    conditional_failed,
    persisting,
    transactions,
    update_if,
)

# ---------------------------------------------------------------- invitations


def create_invitation(invitation: Invitation) -> bool:
    """Store a new invitation; False when one with this id exists (a repeated event)."""
    try:
        invitation.save(condition=Invitation.invitation_id.does_not_exist())
    except PutError as error:
        if conditional_failed(error):
            return False
        raise
    return True


class ContactChanged(Exception):
    """The customer's last contact moved since it was read: decide again on fresh data."""


def schedule_invitation(
    invitation: Invitation, *, seen_last_contact: str | None, new_last_contact: str
) -> bool:
    """Create the invitation and reserve the customer's contact time in one transaction, so
    two surveys decided at once for one customer cannot both pass the fatigue rule.

    True: created. False: this invitation already exists (a repeated event). Raises
    ContactChanged when another survey reserved a contact since `seen_last_contact` was read.
    """
    seen: Condition = Customer.last_contact_at.does_not_exist()
    if seen_last_contact is not None:
        seen = Customer.last_contact_at == seen_last_contact
    connection = transactions(getattr(Invitation.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.save(invitation, condition=Invitation.invitation_id.does_not_exist())
            transaction.update(
                Customer(invitation.customer_id),
                actions=[
                    Customer.last_contact_at.set(new_last_contact),
                    Customer.cohort_day.set(new_last_contact[:10]),
                ],
                condition=Customer.customer_id.exists() & seen,
            )
    except TransactWriteError as error:
        reasons = getattr(error, "cancellation_reasons", None) or []
        codes = [getattr(r, "code", None) if r is not None else None for r in reasons]
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        if _retryable_transaction(error):
            raise ContactChanged(invitation.customer_id) from None
        raise
    return True


def get_invitation(invitation_id: str) -> Invitation | None:
    try:
        return Invitation.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


def find_invitation_by_link_token(token: str) -> Invitation | None:
    for key in Invitation.by_link_token.query(token, limit=1):
        return get_invitation(key.invitation_id)
    return None


def invitations_asked_by_sms(sms_address: str, limit: int = 5) -> list[Invitation]:
    """The invitations that last sent an SMS to this number, most recent first."""
    keys = Invitation.by_sms_address.query(sms_address, scan_index_forward=False, limit=limit)
    found = (get_invitation(key.invitation_id) for key in keys)
    return [invitation for invitation in found if invitation is not None]


def claim_help_reply(invitation_id: str, now: datetime) -> bool:
    """True once per invitation: the one help SMS an unreadable reply may get."""
    return update_if(
        Invitation(invitation_id),
        [Invitation.help_replied_at.set(iso(now))],
        Invitation.invitation_id.exists() & Invitation.help_replied_at.does_not_exist(),
    )


def store_task_token(invitation_id: str, task_token: str, now: datetime) -> bool:
    """Store the token of the wait the lifecycle is in, while the survey is open. False when
    it is not (answered since it was read): nothing is written, and the caller ends the wait.
    An answer's outbox reads the token after the answer was committed, so between the two
    every wait is ended once (logic/outbox.py)."""
    return update_if(
        Invitation(invitation_id),
        [Invitation.task_token.set(task_token), Invitation.updated_at.set(iso(now))],
        Invitation.invitation_id.exists() & Invitation.status.is_in("pending", "sent"),
    )


def expire_invitation(invitation_id: str, now: datetime, *, from_statuses: Iterable[str]) -> bool:
    """The survey closes unanswered; False when its status is no longer one of from_statuses
    (an answer got there first): nothing is written then."""
    return update_if(
        Invitation(invitation_id),
        [Invitation.status.set("expired"), Invitation.updated_at.set(iso(now))],
        Invitation.invitation_id.exists() & Invitation.status.is_in(*from_statuses),
    )


def record_attempt(invitation_id: str, attempt: Attempt, now: datetime) -> None:
    """Append an attempt that sent nothing (a skipped rung)."""
    Invitation(invitation_id).update(
        actions=[
            Invitation.attempts.set(Invitation.attempts.append([attempt])),
            Invitation.updated_at.set(iso(now)),
        ],
        condition=Invitation.invitation_id.exists(),
    )


def _attempts_are(index: int) -> Condition:
    """The invitation's attempt list is `index` long: the next one appended lands at index."""
    if index == 0:
        return Invitation.attempts.does_not_exist() | (size(Invitation.attempts) == 0)
    return size(Invitation.attempts) == index


def record_intent(
    invitation_id: str, attempt: Attempt, index: int, now: datetime, counts: Counts
) -> None:
    """Before a message is handed to SES or SNS: append its attempt (outcome SENDING) at
    `index`, note that the customer may be contacted (`contacted_at`, kept when set) and count
    the message as sent, in one transaction. IntentNotRecorded when it is not written (after
    retries, or another attempt was added meanwhile): nothing may be sent then.

    The condition on the list's length makes `index` exact; the request token makes a retry
    of the call after a commit it did not hear of a no-op, so the message is counted once."""
    actions: list[Action] = [
        Invitation.attempts.set(Invitation.attempts.append([attempt])),
        Invitation.contacted_at.set(Invitation.contacted_at | attempt.at),
        Invitation.updated_at.set(iso(now)),
    ]
    condition = Invitation.invitation_id.exists() & _attempts_are(index)
    connection = transactions(getattr(Invitation.Meta, "region", None))
    token = str(uuid.uuid4())  # one per intent: the same for every retry of this write

    def write() -> None:
        with TransactWrite(connection=connection, client_request_token=token) as tx:
            tx.update(Invitation(invitation_id), actions=actions, condition=condition)
            _add_counts(tx, counts)

    try:
        persisting(write)
    except PynamoDBException as error:
        raise IntentNotRecorded(type(error).__name__) from error


def record_sent(
    invitation_id: str,
    customer_id: str,
    index: int,
    message_id: str,
    now: datetime,
    sms_address: str | None = None,
) -> None:
    """SES or SNS accepted the message of the attempt at `index` (SENDING): it is sent, with
    its message id; a sent SMS also files the invitation under its number's hash
    (`sms_address`, domain/suppressions.address_key) for replies. Then the invitation is sent
    (from pending; never over answered, expired or failed) and the customer's last contact
    moves forward. Each write retries transient errors (persisting); NotRecorded when one
    still fails."""
    try:
        _record_sent(invitation_id, customer_id, index, message_id, now, sms_address)
    except PynamoDBException as error:
        raise NotRecorded(type(error).__name__) from error


def _record_sent(
    invitation_id: str,
    customer_id: str,
    index: int,
    message_id: str,
    now: datetime,
    sms_address: str | None,
) -> None:
    attempt = Invitation.attempts[index]
    actions: list[Action] = [
        attempt["outcome"].set("sent"),
        attempt["message_id"].set(message_id),
        Invitation.updated_at.set(iso(now)),
    ]
    if sms_address:
        actions += [Invitation.sms_address.set(sms_address), Invitation.last_sms_at.set(iso(now))]
    # False: already recorded (a retried write whose first try was committed): nothing to do.
    persisting(lambda: update_if(Invitation(invitation_id), actions, attempt["outcome"] == SENDING))
    persisting(
        lambda: update_if(
            Invitation(invitation_id),
            [Invitation.status.set("sent")],
            Invitation.status.is_in("pending"),
        )
    )
    persisting(lambda: CustomerTable().record_contact(customer_id, now))


def withdraw_intent(
    invitation_id: str,
    index: int,
    counts: Counts,
    now: datetime,
    *,
    refused: str | None,
    contacted_before: bool,
) -> None:
    """The message of the attempt at `index` (SENDING) did not go out: SES or SNS refused it
    (`refused`: the code; the attempt stays, failed) or failed to take it (throttled, an
    error: the attempt is removed, as if never tried, for the retried rung to send). Its count
    is taken back in the same transaction, and `contacted_at` goes when no other message may
    have reached the customer (`contacted_before` False). Conditional on the attempt still
    being SENDING, so it happens once. NotRecorded when it cannot be written: the attempt
    stays SENDING, which a retried rung takes as sent (never twice)."""
    attempt = Invitation.attempts[index]
    actions: list[Action] = [Invitation.updated_at.set(iso(now))]
    if refused is not None:
        actions += [attempt["outcome"].set("failed"), attempt["reason"].set(refused)]
    else:
        actions.append(attempt.remove())
    if not contacted_before:
        actions.append(Invitation.contacted_at.remove())
    back = Counts(
        counts.series, counts.day, counts.segment, {name: -n for name, n in counts.add.items()}
    )
    connection = transactions(getattr(Invitation.Meta, "region", None))
    token = str(uuid.uuid4())

    def write() -> None:
        with TransactWrite(connection=connection, client_request_token=token) as tx:
            tx.update(
                Invitation(invitation_id), actions=actions, condition=attempt["outcome"] == SENDING
            )
            _add_counts(tx, back)

    try:
        persisting(write)
    except TransactWriteError as error:
        reasons = getattr(error, "cancellation_reasons", None) or []
        if not (reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed"):
            raise NotRecorded(type(error).__name__) from error
        # Withdrawn already (a retried write whose first try was committed).
    except PynamoDBException as error:
        raise NotRecorded(type(error).__name__) from error


def clear_contacted(invitation_id: str, attempts_seen: int) -> bool:
    """No message of the invitation reached the customer after all (its only email bounced):
    forget `contacted_at`, so the lifecycle may mark it failed. False, and nothing written,
    when an attempt was added since the `attempts_seen` were read."""
    return update_if(
        Invitation(invitation_id),
        [Invitation.contacted_at.remove()],
        Invitation.invitation_id.exists() & _attempts_are(attempts_seen),
    )


def mark_attempt(
    invitation_id: str, index: int, message_id: str, outcome: str, now: datetime
) -> bool:
    """Record what became of a sent message (bounced, complained). False when the attempt at
    index is not that message (the list is append-only, so this means a wrong index)."""
    attempt = Invitation.attempts[index]
    return update_if(
        Invitation(invitation_id),
        [attempt["outcome"].set(outcome), Invitation.updated_at.set(iso(now))],
        attempt["message_id"] == message_id,
    )


# ---------------------------------------------------------------- responses and aggregates


def segment_of(segment: Mapping[str, Any]) -> dict[str, str]:
    """The segment as the counters keep it: its attributes with a value, as text."""
    return {str(name): str(value) for name, value in sorted(segment.items()) if value}


def combination_key(segment: Mapping[str, Any]) -> str:
    """A short, unambiguous name of one combination of segment values: the first 96 bits of
    the SHA-256 of its canonical JSON (values may hold any character, so no separator would
    do; the item keeps the segment itself)."""
    canonical = json.dumps(segment_of(segment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def counter_bucket(day: str, segment: Mapping[str, Any]) -> str:
    return f"{day}#{combination_key(segment)}"


@dataclass(frozen=True)
class Counts:
    """Anonymous counts to add to one counter: one series, one day, one combination of
    segment values (the report adds the combinations up by segment key and scope)."""

    series: str  # "{survey}#sent", "{survey}#responses", "{survey}#escalations", "{survey}#nps"
    day: str
    segment: Mapping[str, Any]
    add: Mapping[str, int]  # counter attribute -> amount (negative moves a count away)


def _counter_actions(segment: Mapping[str, Any], add: Mapping[str, int]) -> list[Action]:
    actions: list[Action] = [AggregateCounter.segment.set(segment_of(segment))]
    actions += [AggregateCounter.count_attribute(name).add(n) for name, n in add.items()]
    return actions


def _add_counts(transaction: TransactWrite, counts: Counts) -> None:
    transaction.update(
        AggregateCounter(counts.series, counter_bucket(counts.day, counts.segment)),
        actions=_counter_actions(counts.segment, counts.add),
    )


@dataclass(frozen=True)
class StoredAnswer:
    response: Response
    first_answer: bool
    changed: bool
    duplicate: bool = False  # the inbound message was applied before: nothing was written


# SNS delivers at least once and Lambda retries a failed invocation (twice, within minutes), so
# a redelivery comes soon after the original; 20 replies to one invitation is far beyond what
# a customer sends, and 20 ids of 36 characters keep the item small.
INBOUND_IDS_KEPT = 20


def _histogram_moves(
    old: Mapping[str, Any], new: Mapping[str, int]
) -> list[tuple[str, int | None, int]]:
    """(metric, old score or None, new score) for every metric whose count must move."""
    moves = []
    for metric, score in new.items():
        previous = old.get(metric)
        previous = None if previous is None else int(previous)
        if previous != score:
            moves.append((metric, previous, score))
    return moves


def _inbound_ids_after(existing: Response | None, inbound_id: str | None) -> list[str] | None:
    """The inbound ids the response keeps after this answer; None when it holds inbound_id
    already (a redelivery)."""
    applied = [str(i) for i in existing.inbound_ids or []] if existing else []
    if inbound_id is None:
        return applied
    if inbound_id in applied:
        return None
    return [*applied, inbound_id][-INBOUND_IDS_KEPT:]


def store_answer(
    invitation: Invitation,
    *,
    scores: Mapping[str, int],
    comment: str | None,
    keep_comment: bool,
    channel: str,
    now: datetime,
    day: str,
    expires_at: datetime,
    first_answer_counts: Mapping[str, int] | None = None,
    inbound_id: str | None = None,
    answered_via: str | None = None,
    after_step: int | None = None,
) -> StoredAnswer:
    """Write the response, mark the invitation answered and move the counters, atomically.

    The response's revision is the optimistic lock: a concurrent answer makes the transaction
    fail and this one is recomputed from the new state, so counters always equal the stored
    responses (one count per response; a changed score moves one count).

    inbound_id (an SMS reply's inboundMessageId) makes the answer apply once: the id is written
    with the response, under the same lock, and an id the response already holds is a duplicate
    (nothing written, no counter moved), even when two deliveries race.

    answered_via and after_step (logic/counting.answered_after) are the first answer's: a
    changed answer keeps them, as it keeps its counted day.
    """
    connection = transactions(getattr(Response.Meta, "region", None))
    for attempt in range(TRANSACTION_ATTEMPTS):
        if attempt:
            backoff(attempt)
        existing = get_response(invitation.invitation_id)
        applied = _inbound_ids_after(existing, inbound_id)
        if applied is None:
            assert existing is not None
            return StoredAnswer(existing, first_answer=False, changed=False, duplicate=True)
        old_scores = dict(existing.scores.as_dict()) if existing else {}
        merged = {**old_scores, **scores}
        moves = _histogram_moves(old_scores, scores)
        response = Response(
            invitation.invitation_id,
            survey_id=invitation.survey_id,
            customer_id=invitation.customer_id,
            scores=merged,
            comment=(existing.comment if existing and keep_comment else comment) or None,
            channel=channel,
            bucket_day=existing.bucket_day if existing else day,
            first_answered_at=existing.first_answered_at if existing else iso(now),
            answered_at=iso(now),
            revision=(int(existing.revision) + 1) if existing else 1,
            segment=dict(invitation.segment.as_dict()) if invitation.segment else {},
            expires_at=expires_at,
            inbound_ids=applied or None,
            answered_via=existing.answered_via if existing else answered_via,
            after_step=existing.after_step if existing else after_step,
        )
        if response.comment:
            response.comment_day = f"{invitation.survey_id}#{response.bucket_day}"
        condition: Condition
        if existing is None:
            condition = Response.invitation_id.does_not_exist()
        else:
            condition = Response.revision == int(existing.revision)
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.save(response, condition=condition)
                transaction.update(
                    Invitation(invitation.invitation_id),
                    actions=[
                        Invitation.status.set("answered"),
                        Invitation.answered_at.set(iso(now)),
                        Invitation.updated_at.set(iso(now)),
                    ],
                    condition=Invitation.status.is_in("pending", "sent", "answered"),
                )
                for metric, previous, score in moves:
                    _count(transaction, response, metric, previous, score)
                if existing is None and first_answer_counts is not None:
                    # Per response, not per metric: how many answered, through which
                    # channel, after a reminder or not (report: response rates).
                    segment = response.segment.as_dict() if response.segment else {}
                    _add_counts(
                        transaction,
                        Counts(
                            f"{invitation.survey_id}#responses",
                            day,
                            segment,
                            {"n": 1, **first_answer_counts},
                        ),
                    )
        except TransactWriteError as error:
            if _retryable_transaction(error):
                continue
            raise
        return StoredAnswer(response, first_answer=existing is None, changed=bool(moves))
    raise RuntimeError("answer not stored: too much contention on one invitation")


def _count(
    transaction: TransactWrite,
    response: Response,
    metric: str,
    previous: int | None,
    score: int,
) -> None:
    add = {f"s{score}": 1, **({"n": 1} if previous is None else {f"s{previous}": -1})}
    segment = response.segment.as_dict() if response.segment else {}
    _add_counts(
        transaction,
        Counts(f"{response.survey_id}#{metric}", str(response.bucket_day), segment, add),
    )


def _retryable_transaction(error: TransactWriteError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    codes = {getattr(r, "code", None) for r in reasons if r is not None}
    if error.cause_response_code == "TransactionConflictException":
        return True
    return bool(codes & {"ConditionalCheckFailed", "TransactionConflict"}) and not (
        codes - {"ConditionalCheckFailed", "TransactionConflict", "None", None}
    )


def get_response(invitation_id: str) -> Response | None:
    try:
        return Response.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


_COMBINATION_BUCKET = re.compile(r"\d{4}-\d{2}-\d{2}#[0-9a-f]{24}")


def read_counters(series: str, first_day: str, last_day: str) -> Iterable[AggregateCounter]:
    """Every counter of one series in a day range: one item per day and combination of
    segment values seen that day, never per response. Items of the layout before
    combinations (buckets "{day}#all", "{day}#businessArea=webshop") are not read."""
    found = AggregateCounter.query(
        series, AggregateCounter.bucket.between(f"{first_day}#", f"{last_day}#\uffff")
    )
    return (item for item in found if _COMBINATION_BUCKET.fullmatch(str(item.bucket)))


COMMENTS_READ_PER_DAY = 25  # the report shows a few recent comments: a bounded read per day


def recent_comments(survey_id: str, day: str, limit: int) -> Iterable[Response]:
    """A survey's commented responses of one day, newest first, at most `limit` read."""
    return Response.by_comment_day.query(
        f"{survey_id}#{day}", scan_index_forward=False, limit=limit, page_size=limit
    )


def claim_report(group: str, period_first_day: str, period_label: str, now: datetime) -> bool:
    """True the first time a group's report for a period is recorded as sent; False when it
    already was (a retried or repeated schedule)."""
    log = AggregateCounter(f"report-log#{group}", f"{period_first_day}#{period_label}", n=1)
    try:
        log.save(condition=AggregateCounter.series.does_not_exist())
    except PutError as error:
        if conditional_failed(error):
            return False
        raise
    return True


def release_report(group: str, period_first_day: str, period_label: str) -> None:
    """Forget a claim whose email did not go out, so the next run sends it."""
    AggregateCounter(f"report-log#{group}", f"{period_first_day}#{period_label}").delete()


# ---------------------------------------------------------------- the recurring survey's quota
# In the aggregates table, under "cohort-quota#<survey>": per local day the customers claimed
# (bucket "<day>", n), and per run of the cohort job (bucket "<day>#run#<scheduled time>")
# what that run claimed (n) and has requested and taken out of the cohort (done).


@dataclass(frozen=True)
class CohortQuota:
    used: int  # claimed on the day, by every run
    owned: int  # claimed by this run and not requested yet (a retried run's to finish)


def _quota_keys(survey_id: str, day: str, run: str) -> tuple[str, str, str]:
    return f"cohort-quota#{survey_id}", day, f"{day}#run#{run}"


def cohort_quota(survey_id: str, day: str, run: str) -> CohortQuota:
    series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
    found = {
        item.bucket: item
        for item in AggregateCounter.batch_get(
            [(series, day_bucket), (series, run_bucket)], consistent_read=True
        )
    }
    used = int(found[day_bucket].n or 0) if day_bucket in found else 0
    mine = found.get(run_bucket)
    owned = int(mine.n or 0) - int(mine.done or 0) if mine is not None else 0
    return CohortQuota(used, owned)


def claim_cohort_quota(survey_id: str, day: str, run: str, count: int, cap: int) -> bool:
    """Claim `count` more of the day's `cap` for this run; False (nothing written) when fewer
    are left (another run claimed meanwhile)."""
    series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
    room = AggregateCounter.n.does_not_exist() | (AggregateCounter.n <= cap - count)
    connection = transactions(getattr(AggregateCounter.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.update(
                AggregateCounter(series, day_bucket),
                actions=[AggregateCounter.n.add(count)],
                condition=room,
            )
            transaction.update(
                AggregateCounter(series, run_bucket), actions=[AggregateCounter.n.add(count)]
            )
    except TransactWriteError as error:
        if _retryable_transaction(error):
            return False
        raise
    return True


def release_cohort_quota(survey_id: str, day: str, run: str, count: int) -> None:
    """Give back `count` of this run's claim: customers it will not request."""
    if count <= 0:
        return
    series, day_bucket, run_bucket = _quota_keys(survey_id, day, run)
    connection = transactions(getattr(AggregateCounter.Meta, "region", None))
    with TransactWrite(connection=connection) as transaction:
        for bucket in (day_bucket, run_bucket):
            transaction.update(
                AggregateCounter(series, bucket), actions=[AggregateCounter.n.add(-count)]
            )


COHORT_BATCH = 10  # customers requested per PutEvents call, and taken out of the cohort at once


def mark_requested(
    survey_id: str, day: str, run: str, customer_ids: Sequence[str], now: datetime
) -> None:
    """Customers the run requested (their events are on the bus) leave the old cohort days,
    and count as done for the run, in one transaction: a retried run requests the rest of
    its claim, never more."""
    if not customer_ids:
        return
    if len(customer_ids) > COHORT_BATCH:
        raise ValueError("at most COHORT_BATCH customers at once")
    series, _, run_bucket = _quota_keys(survey_id, day, run)
    connection = transactions(getattr(Customer.Meta, "region", None))
    with TransactWrite(connection=connection) as transaction:
        for customer_id in customer_ids:
            transaction.update(
                Customer(customer_id), actions=[Customer.cohort_day.set(day_of(now))]
            )
        transaction.update(
            AggregateCounter(series, run_bucket),
            actions=[AggregateCounter.done.add(len(customer_ids))],
        )


# ---------------------------------------------------------------- escalations


def claim_escalation(escalation: Escalation) -> Escalation:
    """Create the escalation record, or return the existing one (a retried event)."""
    try:
        escalation.save(condition=Escalation.invitation_id.does_not_exist())
        return escalation
    except PutError as error:
        if not conditional_failed(error):
            raise
    return Escalation.get(escalation.invitation_id, consistent_read=True)


def record_task(
    invitation_id: str,
    contact_id: str,
    now: datetime,
    scheduled_for: datetime | None,
    counts: Counts | None = None,
    task_revision: int | None = None,
) -> None:
    """Store the task's contact id, once (a retry finds it stored), counting the task. The
    task is open from now: it goes into by_open_due under its SLA deadline. task_revision:
    the response revision the task was made from."""
    claimed = Escalation.get(
        invitation_id, consistent_read=True, attributes_to_get=["survey_id", "sla_hours"]
    )
    due = now + timedelta(hours=int(claimed.sla_hours))  # the claim sets the survey's SLA
    actions: list[Action] = [
        Escalation.contact_id.set(contact_id),
        Escalation.status.set("created"),
        # The condition below makes this the first and only write of these.
        Escalation.escalated_at.set(iso(now)),
        Escalation.outcome.set("open"),
        Escalation.sla.set("open"),
        Escalation.open_survey.set(str(claimed.survey_id)),
        Escalation.open_due_at.set(iso(due)),
        Escalation.updated_at.set(iso(now)),
    ]
    if scheduled_for is not None:
        actions.append(Escalation.scheduled_for.set(iso(scheduled_for)))
    if task_revision is not None:
        actions.append(Escalation.task_revision.set(task_revision))
    if counts is not None:
        actions.append(Escalation.counted_day.set(counts.day))
    connection = transactions(getattr(Escalation.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.update(
                Escalation(invitation_id),
                actions=actions,
                condition=Escalation.contact_id.does_not_exist(),
            )
            if counts is not None:
                _add_counts(transaction, counts)
    except TransactWriteError as error:
        if not _retryable_transaction(error):
            raise
        # Already recorded by an earlier attempt: nothing to add.


def record_task_revision(invitation_id: str, revision: int, now: datetime) -> bool:
    """The task now shows this response revision; False when it already shows this one or a
    later one (nothing written)."""
    return update_if(
        Escalation(invitation_id),
        [Escalation.task_revision.set(revision), Escalation.updated_at.set(iso(now))],
        Escalation.contact_id.exists()
        & (Escalation.task_revision.does_not_exist() | (Escalation.task_revision < revision)),
    )


def mark_announced(invitation_id: str, now: datetime) -> None:
    Escalation(invitation_id).update(actions=[Escalation.announced_at.set(iso(now))])


def get_escalation(invitation_id: str) -> Escalation | None:
    try:
        return Escalation.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        return None


def escalation_of_contact(contact_ids: Iterable[str]) -> Escalation | None:
    """The escalation the first of these contact ids belongs to: the task's own contact (on
    the escalation) or a later contact of its chain (a ContactLink). One Query per id tried,
    and one GetItem."""
    for contact_id in contact_ids:
        for key in Escalation.by_contact_id.query(contact_id, limit=1):
            found = get_escalation(ContactLink.escalation_key(str(key.invitation_id)))
            if found is not None:
                return found
    return None


LEGACY_MOMENTS = ("connected_at", "disconnected_at", "completed_at")
# A chain contact on the escalation item: moments as ISO text, like every timestamp here.
CONTACT_FIELDS = ("previous", *MOMENTS, "disconnect_reason")


def contacts_of(escalation: Escalation) -> dict[str, Contact]:
    """The chain as stored; a record from before the chain map has its task contact's moments
    as attributes of its own."""
    raw = escalation.contacts.as_dict() if escalation.contacts is not None else None
    if raw is None:
        legacy = {m: getattr(escalation, m) for m in LEGACY_MOMENTS}
        if escalation.contact_id is None or not any(legacy.values()):
            return {}
        raw = {str(escalation.contact_id): legacy}
    contacts = {}
    for contact_id, fields in raw.items():
        values: dict[str, Any] = {}
        for name in CONTACT_FIELDS:
            value = fields.get(name)
            if value is None:
                continue
            values[name] = _parsed(value) if name in MOMENTS else str(value)
        contacts[str(contact_id)] = Contact(**values)
    return contacts


def counted_of(escalation: Escalation) -> dict[str, int]:
    """What the task has added to its counters so far; a record from before `counted` added
    `done` and its SLA outcome once it was done."""
    if escalation.counted is not None:
        return {str(k): int(v) for k, v in escalation.counted.as_dict().items()}
    if escalation.counted_day and escalation.sla in ("met", "missed"):
        return {"done": 1, f"sla_{escalation.sla}": 1}
    return {}


def _parsed(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _stored_contacts(contacts: Mapping[str, Contact]) -> dict[str, dict[str, str]]:
    stored = {}
    for contact_id, contact in contacts.items():
        fields = {}
        for name in CONTACT_FIELDS:
            value = getattr(contact, name)
            if value is not None:
                fields[name] = iso(value) if isinstance(value, datetime) else str(value)
        stored[contact_id] = fields
    return stored


def save_follow_up(
    escalation: Escalation,
    contacts: Mapping[str, Contact],
    result: FollowUp,
    counted: Mapping[str, int],
    *,
    new_contact: str | None,
    now: datetime,
) -> bool:
    """Store the chain and what follow_up derived from it, as read in `escalation`; False
    (nothing written) when another event changed the record since: read and derive again.

    One transaction: the escalation (on its revision), the counters by the difference between
    `counted` and what the task had counted (so a retried or repeated event never counts
    twice), and the link of a chain contact seen for the first time. While the task is open it
    stays in by_open_due under its deadline; once it ends it leaves the index.
    """
    revision = escalation.follow_up_revision
    condition = Escalation.invitation_id.exists() & (
        Escalation.follow_up_revision.does_not_exist()
        if revision is None
        else Escalation.follow_up_revision == int(revision)
    )
    optional: list[tuple[Any, Any]] = [
        (Escalation.reached_at, iso(result.reached_at) if result.reached_at else None),
        (Escalation.seconds_to_agent, result.seconds_to_agent),
        (Escalation.done_at, iso(result.done_at) if result.done_at else None),
    ]
    actions: list[Action] = [
        Escalation.contacts.set(_stored_contacts(contacts)),
        Escalation.outcome.set(result.outcome),
        Escalation.sla.set(result.sla),
        Escalation.counted.set(dict(counted)),
        Escalation.follow_up_revision.set(int(revision or 0) + 1),
        Escalation.updated_at.set(iso(now)),
        *(getattr(Escalation, m).remove() for m in LEGACY_MOMENTS),  # now in the map
    ]
    for attribute, value in optional:
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if result.outcome == "open":
        actions += [
            Escalation.open_survey.set(str(escalation.survey_id)),
            Escalation.open_due_at.set(iso(result.due_at)),
        ]
    else:
        actions += [Escalation.open_survey.remove(), Escalation.open_due_at.remove()]
    moves = counter_moves(counted_of(escalation), counted) if escalation.counted_day else {}
    connection = transactions(getattr(Escalation.Meta, "region", None))
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.update(
                Escalation(escalation.invitation_id), actions=actions, condition=condition
            )
            if moves:
                counts = Counts(
                    f"{escalation.survey_id}#escalations",
                    str(escalation.counted_day),
                    escalation.segment.as_dict() if escalation.segment else {},
                    moves,
                )
                _add_counts(transaction, counts)
            if new_contact is not None and new_contact != escalation.contact_id:
                transaction.save(
                    ContactLink(
                        ContactLink.key(str(escalation.invitation_id), new_contact),
                        contact_id=new_contact,
                        expires_at=escalation.expires_at,
                    )
                )
    except TransactWriteError as error:
        if _retryable_transaction(error):
            return False
        raise
    return True


def open_tasks(survey_id: str, limit: int) -> Iterable[Escalation]:
    """The survey's open tasks, earliest SLA deadline first, at most `limit` (one Query of
    by_open_due, each item with OPEN_TASK_FIELDS)."""
    return Escalation.by_open_due.query(survey_id, limit=limit, scan_index_forward=True)


def record_follow_up_outcome(
    invitation_id: str, outcome: str, note: str, by: str, at: datetime
) -> bool:
    """A manager's outcome and note on the task (the last one wins); False when there is no
    such task (a ContactLink's key is no task either)."""
    try:
        Escalation(invitation_id).update(
            actions=[
                Escalation.recorded_outcome.set(outcome),
                Escalation.recorded_note.set(note) if note else Escalation.recorded_note.remove(),
                Escalation.recorded_at.set(iso(at)),
                Escalation.recorded_by.set(by),
            ],
            condition=Escalation.survey_id.exists(),
        )
    except UpdateError as error:
        if conditional_failed(error):
            return False
        raise
    return True


def overdue_open_tasks(survey_id: str, since: datetime, as_of: datetime) -> Iterable[Escalation]:
    """The survey's tasks still open whose SLA deadline fell in [since, as_of): one Query of
    by_open_due, as many items as there are such tasks (each with OPEN_TASK_FIELDS)."""
    for item in Escalation.by_open_due.query(
        survey_id, Escalation.open_due_at.between(iso(since), iso(as_of))
    ):
        if str(item.open_due_at) < iso(as_of):
            yield item
