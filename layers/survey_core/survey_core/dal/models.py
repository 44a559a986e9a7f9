"""DynamoDB tables as PynamoDB models. Keys and access patterns: docs/architecture.md."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from msgspec import Struct, field
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.settings import get_settings_value

from ..config import Tables
from ..domain.counters import MAX_SCORE, SCORE_NAMES
from ..domain.invitations import WAIT_KEY_SUFFIX


class ActivityDayIndex(GlobalSecondaryIndex["Customer"]):
    """Customers under the (UTC) day of their last activity: the inactivity job reads one day."""

    class Meta:
        index_name = "by_activity_day"
        projection = IncludeProjection(["last_activity_at"])

    activity_day = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CohortDayIndex(GlobalSecondaryIndex["Customer"]):
    """Customers under the day they were last surveyed (or picked for the recurring survey,
    or first seen): the recurring job reads the days older than its cohort limit."""

    class Meta:
        index_name = "by_cohort_day"
        projection = KeysOnlyProjection()

    cohort_day = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class Customer(Model):
    class Meta:
        table_name = "customers"

    customer_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(null=True)  # valid and normalized only
    phone = UnicodeAttribute(null=True)  # E.164 only
    language = UnicodeAttribute()
    time_zone = UnicodeAttribute(null=True)
    consent_email = BooleanAttribute(default=True)
    consent_sms = BooleanAttribute(default=True)
    first_seen_at = UnicodeAttribute(null=True)
    # The latest survey contact, planned ones included: the fatigue rule reads it, and a new
    # invitation moves it in the same transaction that creates the invitation.
    last_contact_at = UnicodeAttribute(null=True)
    cohort_day = UnicodeAttribute(null=True)
    last_activity_at = UnicodeAttribute(null=True)
    activity_day = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    by_activity_day = ActivityDayIndex()
    by_cohort_day = CohortDayIndex()


class Attempt(MapAttribute[str, Any]):
    """One message of the ladder, as it happened."""

    rung = NumberAttribute()
    channel = UnicodeAttribute()  # email | sms | none (skipped: no usable channel)
    # sending (handed to SES / SNS, what became of it not recorded yet) -> sent | failed;
    # skipped; a sent email later turns bounced or complained (SES feedback)
    outcome = UnicodeAttribute()
    at = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    fallback = BooleanAttribute(default=False)  # sent on SMS because the rung's email bounced
    # Where it went, as its suppression key ("<channel>#<sha256 of the address>",
    # domain/suppressions.address_key; never the address): an unsubscribe suppresses the address
    # the message reached, even after the customer's address changed.
    address_key = UnicodeAttribute(null=True)


class LinkTokenIndex(GlobalSecondaryIndex["Invitation"]):
    class Meta:
        index_name = "by_link_token"
        projection = KeysOnlyProjection()

    link_token = UnicodeAttribute(hash_key=True)


class CustomerIndex(GlobalSecondaryIndex["Invitation"]):
    class Meta:
        index_name = "by_customer"
        projection = KeysOnlyProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SmsAddressIndex(GlobalSecondaryIndex["Invitation"]):
    """Invitations that asked by SMS under the hashed number, newest SMS last: a reply answers
    the most recent open one."""

    class Meta:
        index_name = "by_sms_address"
        projection = KeysOnlyProjection()

    sms_address = UnicodeAttribute(hash_key=True)
    last_sms_at = UnicodeAttribute(range_key=True)


class Invitation(Model):
    class Meta:
        table_name = "invitations"

    invitation_id = UnicodeAttribute(hash_key=True)
    link_token = UnicodeAttribute()
    survey_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    business_key = UnicodeAttribute()
    source_event_id = UnicodeAttribute()
    metric = UnicodeAttribute()  # the first metric: the one an email link or SMS reply answers
    metrics = ListAttribute(of=UnicodeAttribute, null=True)
    language = UnicodeAttribute()
    segment = MapAttribute[str, Any](default=dict)
    channels = ListAttribute(of=UnicodeAttribute)  # the planned ladder: one channel per rung
    rung_at = ListAttribute(of=UnicodeAttribute)  # when each rung is due (quiet hours applied)
    # pending -> sent -> answered | expired | failed; suppressed never starts a lifecycle
    status = UnicodeAttribute(default="pending")
    # suppressed: why not sent (eligibility.py); pending: why later than at once, if it is
    reason = UnicodeAttribute(null=True)
    send_at = UnicodeAttribute(null=True)  # rung 0's time
    closes_at = UnicodeAttribute(null=True)
    attempts = ListAttribute[Attempt](of=Attempt, default=list)
    # Written by versions before LifecycleWait; read (InvitationTable.task_token) until the
    # last survey that stored its token here has closed.
    task_token = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    answered_at = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    # When a message of this invitation was first handed to SES or SNS, while any may have
    # reached the customer (removed again when the only one was refused or bounced). The
    # lifecycle's MarkFailed never marks such a survey failed: its link must keep working.
    contacted_at = UnicodeAttribute(null=True)
    # Set when an SMS of this invitation went out: the phone's suppression-style hash (never the
    # number itself) and when, so an SMS reply finds the invitation it answers.
    sms_address = UnicodeAttribute(null=True)
    last_sms_at = UnicodeAttribute(null=True)
    help_replied_at = UnicodeAttribute(null=True)  # the one help SMS for an unreadable reply
    expires_at = TTLAttribute(null=True)

    by_link_token = LinkTokenIndex()
    by_customer = CustomerIndex()
    by_sms_address = SmsAddressIndex()


class LifecycleWait(Model):
    """The task token of the lifecycle's latest wait on an invitation, in the invitations table
    under "<invitation id>#wait" (domain/invitations.WAIT_KEY_SUFFIX: kept off the invitation,
    whose every write would carry it). In no index: it has none of their keys."""

    class Meta:
        table_name = "invitations"

    invitation_id = UnicodeAttribute(hash_key=True)
    task_token = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    @classmethod
    def key(cls, invitation_id: str) -> str:
        return f"{invitation_id}{WAIT_KEY_SUFFIX}"


class CommentDayIndex(GlobalSecondaryIndex["Response"]):
    """Responses with a comment, per survey and counted day, newest first: the report reads a
    bounded number per day (sparse: responses without a comment are not in it)."""

    class Meta:
        index_name = "by_comment_day"
        projection = IncludeProjection(["comment", "scores", "segment"])

    comment_day = UnicodeAttribute(hash_key=True)  # "{survey_id}#{bucket_day}"
    answered_at = UnicodeAttribute(range_key=True)


class Response(Model):
    """One response per invitation: answering again replaces it (revision counts up)."""

    class Meta:
        table_name = "responses"

    invitation_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    scores = MapAttribute[str, Any]()
    comment = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()
    bucket_day = UnicodeAttribute()  # the day counted in the aggregates; kept on changes
    first_answered_at = UnicodeAttribute()
    answered_at = UnicodeAttribute()
    revision = NumberAttribute()
    segment = MapAttribute[str, Any](default=dict)
    comment_day = UnicodeAttribute(null=True)  # set only with a comment (by_comment_day)
    expires_at = TTLAttribute(null=True)
    # The first answer's place in the ladder (logic/counting.answered_after): the channel it came
    # through (email / sms) and the step it came after (0 the invitation, 1 the first reminder,
    # ...); absent where no message had reached the customer, and on answers stored before them.
    answered_via = UnicodeAttribute(null=True)
    after_step = NumberAttribute(null=True)
    # The inbound SMS (End User Messaging inboundMessageId) already applied, oldest first, the
    # last INBOUND_IDS_KEPT of them: a redelivered reply is recognised and changes nothing.
    inbound_ids = ListAttribute(of=UnicodeAttribute, null=True)

    by_comment_day = CommentDayIndex()


class AggregateCounter(Model):
    """Anonymous counts per survey x metric (series), day and combination of segment values
    (bucket): one item per combination seen that day, so a message or an answer adds to one
    item per series. The report adds them up by segment key and scope (logic/counting.py).

    n is the number of responses; s0..s10 count each score: the histogram.
    """

    class Meta:
        table_name = "aggregates"

    series = UnicodeAttribute(hash_key=True)  # "{survey_id}#{metric}"
    # "{YYYY-MM-DD}#{combination}": domain/counters.combination_key of the segment below
    bucket = UnicodeAttribute(range_key=True)
    segment = MapAttribute[str, Any](null=True)  # the combination: attribute -> value
    n = NumberAttribute(default=0)
    for _score in range(MAX_SCORE + 1):
        locals()[f"s{_score}"] = NumberAttribute(null=True)
    del _score

    def histogram(self) -> dict[int, int]:
        counts = {s: int(getattr(self, f"s{s}") or 0) for s in range(MAX_SCORE + 1)}
        return {s: c for s, c in counts.items() if c}

    # Counts of other series (all optional): "#sent", "#responses", "#escalations".
    invitations = NumberAttribute(null=True)  # sent: invitations that reached the customer
    email_messages = NumberAttribute(null=True)
    sms_messages = NumberAttribute(null=True)
    email_invitations = NumberAttribute(null=True)  # invitations with a message on email
    sms_invitations = NumberAttribute(null=True)
    via_email = NumberAttribute(null=True)  # responses: the last message before was an email
    via_sms = NumberAttribute(null=True)
    after_reminder = NumberAttribute(null=True)  # responses after at least one reminder
    created = NumberAttribute(null=True)  # escalations: tasks created
    done = NumberAttribute(null=True)  # ended: completed + not_reached + expired
    completed = NumberAttribute(null=True)
    not_reached = NumberAttribute(null=True)
    expired = NumberAttribute(null=True)
    sla_met = NumberAttribute(null=True)
    sla_missed = NumberAttribute(null=True)  # ended outcomes only; open past due is read live
    reached = NumberAttribute(null=True)  # an agent connected (time to agent known)
    to_agent_seconds = NumberAttribute(null=True)  # their times to agent, summed

    COUNTS = (
        "n", "invitations", "email_messages", "sms_messages", "email_invitations",
        "sms_invitations", "via_email", "via_sms", "after_reminder", "created", "done",
        "completed", "not_reached", "expired", "sla_met", "sla_missed", "reached",
        "to_agent_seconds",
    )  # fmt: skip

    @classmethod
    def score_attribute(cls, score: int) -> NumberAttribute:
        attribute: NumberAttribute = getattr(cls, f"s{score}")
        return attribute

    @classmethod
    def count_attribute(cls, name: str) -> NumberAttribute:
        if name not in cls.COUNTS and name not in SCORE_NAMES:
            raise ValueError(f"unknown counter {name!r}")
        attribute: NumberAttribute = getattr(cls, name)
        return attribute

    def counts(self) -> dict[str, int]:
        found = {name: int(getattr(self, name) or 0) for name in self.COUNTS}
        return {name: value for name, value in found.items() if value}

    def all_counts(self) -> dict[str, int]:
        """Every count it holds: the histogram's s0..s10 and the other counts."""
        return {**{f"s{s}": c for s, c in self.histogram().items()}, **self.counts()}

    def segment_values(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.segment.as_dict() if self.segment else {}).items()}


class ContactIdIndex(GlobalSecondaryIndex["Escalation"]):
    """Escalations by an Amazon Connect contact id: contact events name only the contact. The
    task's own contact is on the escalation; a later contact of its chain (a transfer or a
    re-queue) on a ContactLink item whose key starts with the escalation's key."""

    class Meta:
        index_name = "by_contact_id"
        projection = KeysOnlyProjection()

    contact_id = UnicodeAttribute(hash_key=True)


# The projection of by_open_due: what a list of open callbacks shows without reading each one.
OPEN_TASK_FIELDS = [
    "segment", "counted_day", "escalated_at", "metric", "score", "contact_id", "reached_at",
    "sla_hours",
]  # fmt: skip


class OpenDueIndex(GlobalSecondaryIndex["Escalation"]):
    """Open callback tasks per survey by their SLA deadline, earliest first (sparse: the keys
    are set when the task is made and removed when it ends). Overdue ones are a range query:
    the report counts them as missed, the results view lists them first."""

    class Meta:
        index_name = "by_open_due"
        projection = IncludeProjection(OPEN_TASK_FIELDS)

    open_survey = UnicodeAttribute(hash_key=True)
    open_due_at = UnicodeAttribute(range_key=True)


class Escalation(Model):
    """One callback task per response, and how the team followed it up."""

    class Meta:
        table_name = "escalations"

    invitation_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute()
    metric = UnicodeAttribute()
    score = NumberAttribute()
    reasons = ListAttribute(of=UnicodeAttribute, null=True)  # "nps 3 <= 6", "comment keyword"
    segment = MapAttribute[str, Any](default=dict)  # for reports by team
    status = UnicodeAttribute()  # requested -> created
    contact_id = UnicodeAttribute(null=True)
    sla_hours = NumberAttribute(null=True)
    escalated_at = UnicodeAttribute(null=True)  # the task was created (the SLA clock starts)
    scheduled_for = UnicodeAttribute(null=True)  # when business hours open, if later
    announced_at = UnicodeAttribute(null=True)  # Survey Escalated published
    # The response revision the task's name and description show (a later comment or score
    # updates the task: UpdateContact).
    task_revision = NumberAttribute(null=True)
    counted_day = UnicodeAttribute(null=True)  # the day its counters are under (task created)
    # From Amazon Connect contact events: per contact id of the task's chain, its previous
    # contact and the moments its events reported (CONTACT_FIELDS), each set once.
    contacts = MapAttribute[str, Any](null=True)
    # Derived from the whole map (follow_up.follow_up), rewritten with it.
    outcome = UnicodeAttribute(null=True)  # open | completed | not_reached | expired
    sla = UnicodeAttribute(null=True)  # open | met | missed
    reached_at = UnicodeAttribute(null=True)  # an agent first connected, anywhere in the chain
    seconds_to_agent = NumberAttribute(null=True)
    done_at = UnicodeAttribute(null=True)
    # What this task has added to its day's escalation counters (besides created): the next
    # change moves them by the difference, in the same transaction.
    counted = MapAttribute[str, Any](null=True)
    follow_up_revision = NumberAttribute(null=True)  # the optimistic lock of the above
    # A manager's own outcome and note from the results view (logic/results.record_outcome):
    # the last one recorded; by whom is the user's Cognito sub, never an address.
    recorded_outcome = UnicodeAttribute(null=True)
    recorded_note = UnicodeAttribute(null=True)
    recorded_at = UnicodeAttribute(null=True)
    recorded_by = UnicodeAttribute(null=True)
    # Set while the task is open (by_open_due): the survey, and the SLA deadline.
    open_survey = UnicodeAttribute(null=True)
    open_due_at = UnicodeAttribute(null=True)
    # Before the chain map: the earliest of each moment of the task's own contact (read only).
    connected_at = UnicodeAttribute(null=True)
    disconnected_at = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    by_contact_id = ContactIdIndex()
    by_open_due = OpenDueIndex()


class ContactLink(Model):
    """A later contact of a task's chain, so its events find the escalation (by_contact_id).
    Key: "<invitation id>#contact#<contact id>"; no personal data; same TTL as the escalation."""

    class Meta:
        table_name = "escalations"

    invitation_id = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    SEPARATOR = "#contact#"

    @classmethod
    def key(cls, invitation_id: str, contact_id: str) -> str:
        return f"{invitation_id}{cls.SEPARATOR}{contact_id}"

    @classmethod
    def escalation_key(cls, key: str) -> str:
        """The escalation's key in a by_contact_id hit: the link's prefix, or the key itself."""
        return key.split(cls.SEPARATOR, 1)[0]

    @classmethod
    def of(cls, escalation: Escalation) -> list[ContactLink]:
        """The links of an escalation's chain contacts (all but the task's own contact)."""
        contacts = escalation.contacts.as_dict() if escalation.contacts is not None else {}
        return [
            cls(cls.key(str(escalation.invitation_id), str(contact_id)))
            for contact_id in contacts
            if contact_id != escalation.contact_id
        ]


class Suppression(Model):
    """An address that gets no survey messages. The key is "<channel>#<sha256 of the address>"
    (domain/suppressions.py): the address itself is never stored here."""

    class Meta:
        table_name = "suppressions"

    address_key = UnicodeAttribute(hash_key=True)
    channel = UnicodeAttribute()  # email | sms
    reason = UnicodeAttribute()  # eligibility.SUPPRESSION_REASONS
    source = UnicodeAttribute()  # where it came from: link, one-click, ses, sms-reply
    at = UnicodeAttribute()
    invitation_id = UnicodeAttribute(null=True)  # the message it came from, when known


def bind_tables(tables: Tables, region: str) -> None:
    """Point the models at this stack's tables (names come from the template), all sending
    through one DynamoDB client, made here (see bind)."""
    for model, name in (
        (Customer, tables.customers),
        (Invitation, tables.invitations),
        (LifecycleWait, tables.invitations),
        (Response, tables.responses),
        (AggregateCounter, tables.aggregates),
        (Escalation, tables.escalations),
        (ContactLink, tables.escalations),
        (Suppression, tables.suppressions),
    ):
        bind(model, name, region)


def bind(model: type[Model], table_name: str, region: str, host: str | None = None) -> None:
    """Point one model at a table, in a region, at an endpoint (None: the region's, or
    AWS_ENDPOINT_URL), sending through the process's one client for that endpoint
    (shared_connection), made now if it is not yet: a function binds its models at init, so
    its first request makes no client. PynamoDB keeps a model's connection while its table name
    stays the same, whatever else changed: it is replaced here, so a model bound anew (e.g. by
    the operator tools to a local stack, then back) never talks to the endpoint it was bound to
    before."""
    model.Meta.table_name = table_name
    setattr(model.Meta, "region", region)  # noqa: B010 - Meta classes declare no region
    setattr(model.Meta, "host", host)  # noqa: B010
    model._connection = None
    _send_through_shared_client(model)


# What a model's Meta gives its connection besides region and host, each one a Meta leaves out
# set from PynamoDB's settings by PynamoDB's MetaModel (the defaults below are the same).
CONNECTION_SETTINGS = (
    "connect_timeout_seconds", "read_timeout_seconds", "max_retry_attempts",
    "max_pool_connections",
)  # fmt: skip
# Meta settings the shared client does not carry: a model that sets one is refused at bind.
UNSHARED_SETTINGS = (
    "extra_headers",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
)
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")


class _Connections(Struct):
    """The shared connections, all of one boto3 default session."""

    session: Any = None
    by_key: dict[tuple[Any, ...], Connection] = field(default_factory=dict)


_SHARED = _Connections()
_SHARED_LOCK = threading.Lock()


def shared_connection(region: str | None, host: str | None = None, **settings: Any) -> Connection:
    """This process's PynamoDB connection to DynamoDB at one endpoint (host None: the region's,
    or AWS_ENDPOINT_URL) with these CONNECTION_SETTINGS (those left out: PynamoDB's settings, as
    a model's Meta has them), and its DynamoDB client, made on the first call and kept while
    boto3's default session, which makes it, stays the same.

    PynamoDB 6 makes a botocore session and a client per model on its first request, each
    session loading the endpoints and DynamoDB's API model again: some 50-340 ms of a
    function's first invocation per model it touches. Made once at init instead (bind), the
    client is in Lambda's init phase (and a SnapStart snapshot), and every model and
    transaction (writes.transactions) uses it. botocore clients are thread-safe; the lock keeps
    threads (the local stack's) from making two."""
    resolved = {name: settings.get(name, get_settings_value(name)) for name in CONNECTION_SETTINGS}
    # Without a host, botocore takes the endpoint from the environment when it makes the client:
    # a process whose environment changed (tests, the local stack) gets a client of its own.
    overrides = () if host else tuple(os.environ.get(name) for name in ENDPOINT_VARIABLES)
    key = (region, host, *overrides, *resolved.values())
    with _SHARED_LOCK:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        if _SHARED.session is not session:
            # A new default session (another profile: tools/customer_data.py; moto makes one
            # per test) has other credentials: new clients, and the old ones are let go.
            _SHARED.session, _SHARED.by_key = session, {}
        connection = _SHARED.by_key.get(key)
        if connection is None:
            connection = Connection(region=region, host=host, **resolved)
            # Relies on Connection.client returning Connection._client once set (PynamoDB
            # 6.1; tests/unit/test_shared_dynamodb_client.py).
            connection._client = _dynamodb_client(session, region, host, **resolved)
            _SHARED.by_key[key] = connection
    return connection


def _dynamodb_client(
    session: boto3.Session,
    region: str | None,
    host: str | None,
    *,
    connect_timeout_seconds: float,
    read_timeout_seconds: float,
    max_retry_attempts: int,
    max_pool_connections: int,
) -> Any:
    """A DynamoDB client configured as PynamoDB configures its own (Connection.client:
    timeouts, pool, its "LEGACY" retries unless its settings say otherwise, no parameter
    validation), made as gateways.client makes the function's other clients: from boto3's
    default session, whose loaded endpoints and retry data it shares (a session of its own,
    as PynamoDB makes, costs about 35 ms more)."""
    retries = get_settings_value("retry_configuration")
    if retries == "LEGACY":
        retries = {"total_max_attempts": 1 + max_retry_attempts, "mode": "standard"}
    config = Config(
        parameter_validation=False,
        connect_timeout=connect_timeout_seconds,
        read_timeout=read_timeout_seconds,
        max_pool_connections=max_pool_connections,
        retries=retries,
    )
    return session.client("dynamodb", region_name=region, endpoint_url=host, config=config)


def _send_through_shared_client(model: type[Model]) -> None:
    """The model's PynamoDB connection (as PynamoDB makes it, with the table's schema) given the
    shared client of its endpoint and settings. PynamoDB has no supported way to give a model a
    client: this relies on Model._get_connection() and on Connection.client returning
    Connection._client once set (PynamoDB 6.1). tests/unit/test_shared_dynamodb_client.py fails
    if an upgrade changes either; PynamoDB would then make its own client per model again."""
    meta = model.Meta
    unshared = [name for name in UNSHARED_SETTINGS if getattr(meta, name, None) is not None]
    if unshared:
        raise ValueError(f"{model.__name__}.Meta sets {', '.join(unshared)}: not shared")
    settings = {name: getattr(meta, name) for name in CONNECTION_SETTINGS if hasattr(meta, name)}
    shared = shared_connection(
        getattr(meta, "region", None), getattr(meta, "host", None), **settings
    )
    model._get_connection().connection._client = shared.client
