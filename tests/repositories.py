"""In-memory repositories (the interfaces of survey_core/domain): what the unit tests give the
use cases. tests/integration/test_repository_contracts.py runs the same tests on these and on
DynamoDB (moto), so they cannot drift from what the tables do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from msgspec.structs import asdict, replace
from survey_core.clock import iso
from survey_core.domain.counters import (
    COHORT_BATCH,
    CohortQuota,
    Counter,
    Counts,
    counter_bucket,
    segment_of,
)
from survey_core.domain.customers import Customer, LastActivity, Sighting, day_of
from survey_core.domain.escalations import Escalation, OpenTask, follow_up_counts, moment
from survey_core.domain.invitations import OPEN, SENDING, Attempt, ContactChanged, Invitation
from survey_core.domain.repositories import Repositories
from survey_core.domain.responses import Answer, Comment, Response, StoredAnswer, revise
from survey_core.domain.suppressions import Suppression
from survey_core.errors import IntentNotRecorded
from survey_core.rules.follow_up import Contact, FollowUp


class MemoryCustomers:
    def __init__(self) -> None:
        self.stored: dict[str, Customer] = {}

    def get(self, customer_id: str) -> Customer | None:
        return self.stored.get(customer_id)

    def remember(self, sighting: Sighting) -> Customer:
        now = iso(sighting.at)
        old = self.stored.get(sighting.customer_id)
        customer = old or Customer(
            sighting.customer_id,
            language=sighting.default_language,
            first_seen_at=now,
            cohort_day=day_of(sighting.at),
        )
        given = {
            "email": sighting.email,
            "phone": sighting.phone,
            "time_zone": sighting.time_zone,
            "language": sighting.language,
        }
        customer = replace(
            customer,
            **{name: value for name, value in given.items() if value},
            **{
                f"consent_{channel}": bool(sighting.consent[channel])
                for channel in ("email", "sms")
                if channel in sighting.consent
            },
            updated_at=now,
            expires_at=sighting.expires_at.replace(microsecond=0),  # TTL: whole seconds
        )
        self.stored[customer.customer_id] = customer
        return customer

    def _move_forward(self, customer_id: str, moment: str, day: str, at: datetime) -> bool:
        customer = self.stored.get(customer_id)
        if customer is None:
            return False
        stored = getattr(customer, moment)
        if stored is not None and stored >= iso(at):
            return False
        self.stored[customer_id] = replace(customer, **{moment: iso(at), day: day_of(at)})
        return True

    def record_activity(self, customer_id: str, at: datetime) -> bool:
        return self._move_forward(customer_id, "last_activity_at", "activity_day", at)

    def record_contact(self, customer_id: str, at: datetime) -> bool:
        return self._move_forward(customer_id, "last_contact_at", "cohort_day", at)

    def last_active_on(self, day: str) -> Iterator[LastActivity]:
        for customer_id, customer in sorted(self.stored.items()):
            if customer.activity_day == day and customer.last_activity_at:
                yield LastActivity(customer_id, customer.last_activity_at)

    def in_cohort_day(self, day: str) -> Iterator[str]:
        for customer_id, customer in sorted(self.stored.items()):
            if customer.cohort_day == day:
                yield customer_id


class MemorySuppressions:
    def __init__(self) -> None:
        self.stored: dict[str, Suppression] = {}

    def add(self, suppression: Suppression) -> None:
        self.stored[suppression.key] = suppression

    def reasons(self, keys: Collection[str]) -> dict[str, str]:
        return {key: self.stored[key].reason for key in keys if key in self.stored}


class MemoryCounters:
    """What was added to each counter: {(series, bucket): {attribute: amount}}; the report log
    and the recurring survey's quota beside them."""

    def __init__(self, customers: MemoryCustomers) -> None:
        self.added: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self.segments: dict[tuple[str, str], dict[str, str]] = {}
        self.reports: set[tuple[str, str, str]] = set()
        self.quota: dict[tuple[str, str], int] = defaultdict(int)  # (survey, day): claimed
        self.runs: dict[tuple[str, str, str], list[int]] = {}  # (survey, day, run): [n, done]
        self.customers = customers

    def add(self, counts: Counts) -> None:
        key = (counts.series, counter_bucket(counts.day, counts.segment))
        self.segments[key] = segment_of(counts.segment)
        counter = self.added[key]
        for name, amount in counts.add.items():
            counter[name] = counter.get(name, 0) + amount

    def read(self, series: str, first_day: str, last_day: str) -> Iterator[Counter]:
        for (found, bucket), counts in sorted(self.added.items()):
            day = bucket.split("#", 1)[0]
            if found == series and first_day <= day <= last_day:
                non_zero = {name: n for name, n in counts.items() if n}
                yield Counter(day, self.segments[(found, bucket)], non_zero)

    def claim_report(self, group: str, period_first_day: str, period_label: str) -> bool:
        claim = (group, period_first_day, period_label)
        if claim in self.reports:
            return False
        self.reports.add(claim)
        return True

    def release_report(self, group: str, period_first_day: str, period_label: str) -> None:
        self.reports.discard((group, period_first_day, period_label))

    def cohort_quota(self, survey_id: str, day: str, run: str) -> CohortQuota:
        claimed, done = self.runs.get((survey_id, day, run), [0, 0])
        return CohortQuota(self.quota[(survey_id, day)], claimed - done)

    def claim_cohort_quota(self, survey_id: str, day: str, run: str, count: int, cap: int) -> bool:
        if self.quota[(survey_id, day)] > cap - count:
            return False
        self.quota[(survey_id, day)] += count
        self.runs.setdefault((survey_id, day, run), [0, 0])[0] += count
        return True

    def release_cohort_quota(self, survey_id: str, day: str, run: str, count: int) -> None:
        if count <= 0:
            return
        self.quota[(survey_id, day)] -= count
        self.runs.setdefault((survey_id, day, run), [0, 0])[0] -= count

    def mark_requested(
        self, survey_id: str, day: str, run: str, customer_ids: Sequence[str], now: datetime
    ) -> None:
        if len(customer_ids) > COHORT_BATCH:
            raise ValueError("at most COHORT_BATCH customers at once")
        if not customer_ids:
            return
        for customer_id in customer_ids:
            # DynamoDB's UpdateItem creates what it updates: so does this.
            customer = self.customers.stored.get(customer_id) or Customer(customer_id, "")
            self.customers.stored[customer_id] = replace(customer, cohort_day=day_of(now))
        self.runs.setdefault((survey_id, day, run), [0, 0])[1] += len(customer_ids)


class MemoryInvitations:
    def __init__(self, customers: MemoryCustomers, counters: MemoryCounters) -> None:
        self.stored: dict[str, Invitation] = {}
        self.task_tokens: dict[str, str] = {}  # the lifecycle's wait items, by invitation
        self.customers = customers
        self.counters = counters

    def get(self, invitation_id: str) -> Invitation | None:
        return self.stored.get(invitation_id)

    def by_link_token(self, token: str) -> Invitation | None:
        return next((i for i in self.stored.values() if i.link_token == token), None)

    def asked_by_sms(self, sms_address: str, limit: int = 5) -> list[Invitation]:
        asked = [i for i in self.stored.values() if i.sms_address == sms_address]
        return sorted(asked, key=lambda i: str(i.last_sms_at), reverse=True)[:limit]

    def create(self, invitation: Invitation) -> bool:
        if invitation.invitation_id in self.stored:
            return False
        self.stored[invitation.invitation_id] = invitation
        return True

    def schedule(
        self, invitation: Invitation, *, seen_last_contact: str | None, new_last_contact: str
    ) -> bool:
        if invitation.invitation_id in self.stored:
            return False
        customer = self.customers.stored.get(invitation.customer_id)
        if customer is None or customer.last_contact_at != seen_last_contact:
            raise ContactChanged(invitation.customer_id)
        self.customers.stored[customer.customer_id] = replace(
            customer, last_contact_at=new_last_contact, cohort_day=new_last_contact[:10]
        )
        self.stored[invitation.invitation_id] = invitation
        return True

    def _update_if(self, invitation_id: str, holds: bool, **changes: object) -> bool:
        invitation = self.stored.get(invitation_id)
        if invitation is None or not holds:
            return False
        self.stored[invitation_id] = replace(invitation, **changes)  # type: ignore[arg-type]
        return True

    def _found(self, invitation_id: str) -> Invitation:
        return self.stored.get(invitation_id) or Invitation(invitation_id)

    def claim_help_reply(self, invitation_id: str, now: datetime) -> bool:
        unclaimed = self._found(invitation_id).help_replied_at is None
        return self._update_if(invitation_id, unclaimed, help_replied_at=iso(now))

    def store_task_token(self, invitation_id: str, task_token: str, now: datetime) -> bool:
        self.task_tokens[invitation_id] = task_token
        current = self.stored.get(invitation_id)
        return current is not None and current.status in ("pending", "sent")

    def task_token(self, invitation_id: str) -> str | None:
        return self.task_tokens.get(invitation_id)

    def expire(self, invitation_id: str, now: datetime, *, from_statuses: Iterable[str]) -> bool:
        expirable = self._found(invitation_id).status in set(from_statuses)
        return self._update_if(invitation_id, expirable, status="expired", updated_at=iso(now))

    def record_attempt(self, invitation_id: str, attempt: Attempt, now: datetime) -> None:
        attempts = [*self.stored[invitation_id].attempts, attempt]
        self._update_if(invitation_id, True, attempts=attempts, updated_at=iso(now))

    def record_intent(
        self, invitation_id: str, attempt: Attempt, index: int, now: datetime, counts: Counts
    ) -> None:
        invitation = self.stored.get(invitation_id)
        if invitation is None or len(invitation.attempts) != index:
            raise IntentNotRecorded("TransactWriteError")
        self.stored[invitation_id] = replace(
            invitation,
            attempts=[*invitation.attempts, attempt],
            contacted_at=invitation.contacted_at or attempt.at,
            updated_at=iso(now),
        )
        self.counters.add(counts)

    def _attempt(self, invitation_id: str, index: int) -> Attempt | None:
        attempts = self._found(invitation_id).attempts
        return attempts[index] if 0 <= index < len(attempts) else None

    def _with_attempt(self, invitation_id: str, index: int, attempt: Attempt | None) -> None:
        attempts = list(self.stored[invitation_id].attempts)
        if attempt is None:
            del attempts[index]
        else:
            attempts[index] = attempt
        self.stored[invitation_id] = replace(self.stored[invitation_id], attempts=attempts)

    def record_sent(
        self,
        invitation_id: str,
        customer_id: str,
        index: int,
        message_id: str,
        now: datetime,
        sms_address: str | None = None,
    ) -> None:
        attempt = self._attempt(invitation_id, index)
        if attempt is not None and attempt.outcome == SENDING:
            self._with_attempt(
                invitation_id, index, replace(attempt, outcome="sent", message_id=message_id)
            )
            sms = {"sms_address": sms_address, "last_sms_at": iso(now)} if sms_address else {}
            self._update_if(invitation_id, True, updated_at=iso(now), **sms)
        pending = self._found(invitation_id).status == "pending"
        self._update_if(invitation_id, pending, status="sent")
        self.customers.record_contact(customer_id, now)

    def withdraw_intent(
        self,
        invitation_id: str,
        index: int,
        counts: Counts,
        now: datetime,
        *,
        refused: str | None,
        contacted_before: bool,
    ) -> None:
        attempt = self._attempt(invitation_id, index)
        if attempt is None or attempt.outcome != SENDING:
            return  # withdrawn already
        failed = replace(attempt, outcome="failed", reason=refused) if refused is not None else None
        self._with_attempt(invitation_id, index, failed)
        contacted = {} if contacted_before else {"contacted_at": None}
        self._update_if(invitation_id, True, updated_at=iso(now), **contacted)
        self.counters.add(counts.taken_back())

    def clear_contacted(self, invitation_id: str, attempts_seen: int) -> bool:
        unchanged = len(self._found(invitation_id).attempts) == attempts_seen
        return self._update_if(invitation_id, unchanged, contacted_at=None)

    def mark_attempt(
        self, invitation_id: str, index: int, message_id: str, outcome: str, now: datetime
    ) -> bool:
        attempt = self._attempt(invitation_id, index)
        if attempt is None or attempt.message_id != message_id:
            return False
        self._with_attempt(invitation_id, index, replace(attempt, outcome=outcome))
        return self._update_if(invitation_id, True, updated_at=iso(now))


class MemoryResponses:
    def __init__(self, invitations: MemoryInvitations, counters: MemoryCounters) -> None:
        self.stored: dict[str, Response] = {}
        self.invitations = invitations
        self.counters = counters

    def get(self, invitation_id: str) -> Response | None:
        return self.stored.get(invitation_id)

    def store_answer(self, invitation: Invitation, answer: Answer) -> StoredAnswer:
        existing = self.stored.get(invitation.invitation_id)
        revision = revise(invitation, existing, answer)
        if revision is None:
            assert existing is not None
            return StoredAnswer(existing, first_answer=False, changed=False, duplicate=True)
        stored_invitation = self.invitations.stored.get(invitation.invitation_id)
        if stored_invitation is None or stored_invitation.status not in OPEN:
            # DynamoDB retries the cancelled transaction until it gives up.
            raise RuntimeError("answer not stored: too much contention on one invitation")
        expires_at = answer.expires_at.replace(microsecond=0)  # TTL: whole seconds
        response = replace(revision.response, expires_at=expires_at)
        self.stored[invitation.invitation_id] = response
        now = response.answered_at
        self.invitations.stored[invitation.invitation_id] = replace(
            stored_invitation, status="answered", answered_at=now, updated_at=now
        )
        for counts in revision.counts:
            self.counters.add(counts)
        return StoredAnswer(response, first_answer=existing is None, changed=revision.changed)

    def recent_comments(self, survey_id: str, day: str, limit: int) -> Iterator[Comment]:
        found = [r for r in self.stored.values() if r.comment_day == f"{survey_id}#{day}"]
        for response in sorted(found, key=lambda r: r.answered_at, reverse=True)[:limit]:
            assert response.comment
            yield Comment(
                response.invitation_id,
                response.answered_at,
                response.comment,
                response.scores,
                response.segment,
            )


class MemoryEscalations:
    LINK = "#contact#"  # a chain contact's link item's key: "<invitation id>#contact#<id>"

    def __init__(self, counters: MemoryCounters) -> None:
        self.stored: dict[str, Escalation] = {}
        self.links: dict[str, str] = {}  # a later chain contact -> its invitation id
        self.counters = counters

    def claim(self, escalation: Escalation) -> Escalation:
        return self.stored.setdefault(escalation.invitation_id, escalation)

    def record_task(
        self,
        invitation_id: str,
        contact_id: str,
        now: datetime,
        scheduled_for: datetime | None,
        counts: Counts | None = None,
        task_revision: int | None = None,
    ) -> None:
        claimed = self.stored[invitation_id]
        if claimed.contact_id is not None:
            return
        assert claimed.sla_hours is not None
        self.stored[invitation_id] = replace(
            claimed,
            contact_id=contact_id,
            status="created",
            escalated_at=iso(now),
            outcome="open",
            sla="open",
            open_due_at=iso(now + timedelta(hours=claimed.sla_hours)),
            updated_at=iso(now),
            scheduled_for=iso(scheduled_for) if scheduled_for else claimed.scheduled_for,
            task_revision=claimed.task_revision if task_revision is None else task_revision,
            counted_day=counts.day if counts is not None else claimed.counted_day,
        )
        if counts is not None:
            self.counters.add(counts)

    def record_task_revision(self, invitation_id: str, revision: int, now: datetime) -> bool:
        found = self.stored.get(invitation_id)
        if found is None or found.contact_id is None:
            return False
        if found.task_revision is not None and found.task_revision >= revision:
            return False
        self.stored[invitation_id] = replace(found, task_revision=revision, updated_at=iso(now))
        return True

    def mark_announced(self, invitation_id: str, now: datetime) -> None:
        self.stored[invitation_id] = replace(self.stored[invitation_id], announced_at=iso(now))

    def get(self, invitation_id: str) -> Escalation | None:
        return self.stored.get(invitation_id)

    def of_contact(self, contact_ids: Iterable[str]) -> Escalation | None:
        for contact_id in contact_ids:
            if contact_id in self.links:
                return self.stored.get(self.links[contact_id])
            for escalation in self.stored.values():
                if escalation.contact_id == contact_id:
                    return escalation
        return None

    def save_follow_up(
        self,
        escalation: Escalation,
        contacts: Mapping[str, Contact],
        result: FollowUp,
        counted: Mapping[str, int],
        *,
        new_contact: str | None,
        now: datetime,
    ) -> bool:
        found = self.stored.get(escalation.invitation_id)
        if found is None or found.follow_up_revision != escalation.follow_up_revision:
            return False
        self.stored[escalation.invitation_id] = replace(
            found,
            # Stored to the second, like every moment (clock.iso).
            contacts={
                contact_id: Contact(
                    **{
                        name: moment(iso(value)) if isinstance(value, datetime) else value
                        for name, value in asdict(contact).items()
                    }
                )
                for contact_id, contact in contacts.items()
            },
            outcome=result.outcome,
            sla=result.sla,
            counted=dict(counted),
            follow_up_revision=(found.follow_up_revision or 0) + 1,
            updated_at=iso(now),
            reached_at=iso(result.reached_at) if result.reached_at else None,
            seconds_to_agent=result.seconds_to_agent,
            done_at=iso(result.done_at) if result.done_at else None,
            open_due_at=iso(result.due_at) if result.outcome == "open" else None,
        )
        moves = follow_up_counts(escalation, counted)
        if moves is not None:
            self.counters.add(moves)
        if new_contact is not None and new_contact != escalation.contact_id:
            self.links[new_contact] = escalation.invitation_id
        return True

    def _open(self, survey_id: str) -> list[OpenTask]:
        found = [
            OpenTask(
                e.invitation_id,
                survey_id,
                e.metric,
                e.score,
                e.segment,
                due,
                e.escalated_at,
                e.counted_day,
                e.contact_id,
                e.reached_at,
            )
            for e in self.stored.values()
            if e.survey_id == survey_id and (due := moment(e.open_due_at)) is not None
        ]
        return sorted(found, key=lambda task: task.due_at)

    def open_tasks(self, survey_id: str, limit: int) -> Iterator[OpenTask]:
        yield from self._open(survey_id)[:limit]

    def overdue_tasks(self, survey_id: str, since: datetime, as_of: datetime) -> Iterator[OpenTask]:
        yield from (task for task in self._open(survey_id) if since <= task.due_at < as_of)

    def record_outcome(
        self, invitation_id: str, outcome: str, note: str, by: str, at: datetime
    ) -> bool:
        found = self.stored.get(invitation_id)
        if found is None:
            return False
        self.stored[invitation_id] = replace(
            found,
            recorded_outcome=outcome,
            recorded_note=note or None,
            recorded_at=iso(at),
            recorded_by=by,
        )
        return True


def memory_repositories() -> Repositories:
    customers = MemoryCustomers()
    counters = MemoryCounters(customers)
    invitations = MemoryInvitations(customers, counters)
    return Repositories(
        counters=counters,
        customers=customers,
        escalations=MemoryEscalations(counters),
        invitations=invitations,
        responses=MemoryResponses(invitations, counters),
        suppressions=MemorySuppressions(),
    )
