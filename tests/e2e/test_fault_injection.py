"""Every survey is sent or marked failed with a reason while a fifth of SES, SNS and DynamoDB
calls fail, on the local stack; none is lost, none is sent twice.

Fifty purchases walk the whole channel ladder on virtual time (as in test_ladder: the clock
jumps from deadline to deadline once the stack has settled) while the stack
answers 20 % of SES SendEmail, SNS Publish and every DynamoDB call, at random, with
throttling or a 500. The customers have email only, SMS only or both; a quarter answer the
first message that reaches them; two have an address SES refuses and no phone, so the failure
path (MarkFailed) runs every time. The DynamoDB rule meets the functions' calls (trigger, send,
the survey pages) and Step Functions' own DynamoDB tasks (Expire, MarkFailed): moto's
interpreter calls them through the stack's endpoint like any client. The faults are lifted
only to read the outcome.

Per customer: the invitation exists (or its event is in the failed-deliveries queue with the
error: failed with a reason, not lost); it was sent (sent, expired or answered) or failed with
a failure_reason; each message that reached the customer is one rung's delivery, recorded on
the invitation; its lifecycle ended. `-s` prints the summary.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from infra.local.ladder import LADDER_HOURS, QUIET_HOURS
from infra.local.process import running_stack
from infra.local.scenario import EXAMPLE_EVENT, LocalStackClient, StageFailed, http

pytestmark = pytest.mark.e2e

# Monday 11:00 in Helsinki: the purchases come before the quiet hours (21:00-08:00). The
# stack runs on virtual time: its clock stands still until the test advances it.
START = "2026-11-16T11:00:00+02:00"
TIME_SCALE = 7200  # retry intervals and the SDK's backoff, which still pass in real time
RATE = 0.2
PER_KIND = 16  # customers per contact kind: email only, SMS only, both
ANSWER_EVERY = 4  # every fourth of those answers the first message that reaches them
REFUSED = 2  # and these have only an email address, which SES refuses (MessageRejected)
FAULTS = [
    {"service": "ses", "operation": "SendEmail", "rate": RATE, "seed": 1,
     "errors": [{"code": "TooManyRequestsException", "status": 429, "weight": 3},
                {"code": "InternalFailure", "status": 500}]},
    {"service": "sns", "operation": "Publish", "rate": RATE, "seed": 2,
     "errors": [{"code": "Throttling", "status": 400, "weight": 3},
                {"code": "ServiceUnavailable", "status": 503}]},
    {"service": "dynamodb", "operation": "*", "rate": RATE, "seed": 3,
     "errors": [{"code": "ProvisionedThroughputExceededException", "weight": 2},
                {"code": "ThrottlingException"},
                {"code": "InternalServerError", "status": 500}]},
]  # fmt: skip
SENT = ("sent", "expired", "answered")
LINK = re.compile(r"(https?://[^\"'\s<>?]+/s/[A-Za-z0-9_-]{22})")


@dataclass
class Customer:
    id: str
    email: str | None
    phone: str | None
    answers: bool = False
    refused: bool = False


@dataclass
class Verdict:
    customer: Customer
    kind: str = ""  # sent | failed | lost
    detail: str = ""  # the status and reason, or why it counts as lost
    invitation_id: str = ""
    execution: str = ""
    failed_at: str = ""  # a failed lifecycle: the task states that failed, with their errors
    delivered: int = 0  # messages that reached the customer
    duplicates: list[str] = field(default_factory=list)  # rungs that went out more than once
    unrecorded: list[str] = field(default_factory=list)  # messages no attempt records


@dataclass
class Run:
    verdicts: list[Verdict]
    faults: list[dict[str, Any]]
    invocations: list[dict[str, Any]]
    answers: dict[str, list[int]]  # customer -> HTTP status of each submit
    seconds: float


def _customers() -> list[Customer]:
    customers = []
    for number in range(3 * PER_KIND):
        kind = ("email", "sms", "both")[number % 3]
        name = f"fault-{number:03d}"
        customers.append(
            Customer(
                id=name,
                email=f"{name}@example.com" if kind != "sms" else None,
                phone=f"+3584009{number:05d}" if kind != "email" else None,
                answers=number % ANSWER_EVERY == 0,
            )
        )
    for number in range(REFUSED):
        name = f"refused-{number:03d}"
        customers.append(Customer(id=name, email=f"{name}@example.com", phone=None, refused=True))
    return customers


def _purchase(customer: Customer, now: datetime) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))["detail"]
    detail["occurredAt"] = (now - timedelta(hours=2)).isoformat()  # due at once
    detail["orderId"] = f"order-{customer.id}"
    contact: dict[str, Any] = {"id": customer.id, "language": "fi"}
    if customer.email:
        contact["email"] = customer.email
    if customer.phone:
        contact["phone"] = customer.phone
    contact["consent"] = {"email": True, "sms": True}
    detail["customer"] = contact
    return detail


class Answerers:
    """The customers who answer: each follows the link in the first message that reaches them
    and, on a 5xx, sends the form again (up to five times), as a person would."""

    def __init__(self, stack: LocalStackClient, customers: list[Customer]) -> None:
        self.stack = stack
        self.waiting = {c.id: c for c in customers if c.answers}
        self.statuses: dict[str, list[int]] = {}

    def step(self) -> None:
        """Answer every message that has arrived (the stack's clock stands still meanwhile)."""
        sent = self.stack.control("outbox")
        for customer in list(self.waiting.values()):
            texts = [m["body"] for m in sent["emails"] if customer.email in m["to"]] + [
                m["text"] for m in sent["sms"] if m["to"] == customer.phone
            ]
            link = next((m.group(1) for t in texts if (m := LINK.search(t))), None)
            if link is None:
                continue
            del self.waiting[customer.id]
            statuses = self.statuses.setdefault(customer.id, [])
            while len(statuses) < 5 and (not statuses or statuses[-1] >= 500):
                statuses.append(http("POST", link, {"score": "9"})[0])


def _settled(stack: LocalStackClient, machine: str) -> bool:
    """No event delivery in flight and no lifecycle running."""
    if stack.control("invocations")["pending"]:
        return False
    sfn = stack.client("stepfunctions")
    running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=1)
    return not running["executions"]


def _lift_faults(info: dict[str, Any]) -> list[dict[str, Any]]:
    """DELETE /_local/faults: the rules, with what each did."""
    request = urllib.request.Request(f"{info['endpoint_url']}/_local/faults", method="DELETE")
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.loads(response.read()))


def _dead_letters(stack: LocalStackClient, url: str) -> dict[str, str]:
    """customer id -> the error of their inbound event, which exhausted its retries."""
    sqs = stack.client("sqs")
    found: dict[str, str] = {}
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
    ).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            event = body.get("requestPayload") or body.get("event") or {}
            customer = event.get("detail", {}).get("customer", {}).get("id")
            if customer:
                error = body.get("responsePayload") or {"errorType": body.get("error")}
                found[customer] = str(error.get("errorType") or error)
    return found


def _where_it_failed(sfn: Any, arn: str) -> str:
    """The task states that failed, in order, with their errors (retried ones included)."""
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    failures, state = [], ""
    for event in events:
        if event["type"].endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
        if "taskFailedEventDetails" in event:
            failures.append(f"{state}: {event['taskFailedEventDetails'].get('error')}")
    return "; ".join(failures)


def _judge(
    stack: LocalStackClient,
    info: dict[str, Any],
    customer: Customer,
    dead: dict[str, str],
    outbox: dict[str, list[dict[str, Any]]],
) -> Verdict:
    verdict = Verdict(customer)
    emails = [m for m in outbox["emails"] if customer.email and customer.email in m["to"]]
    sms = [m for m in outbox["sms"] if customer.phone and m["to"] == customer.phone]
    verdict.delivered = len(emails) + len(sms)
    dynamodb = stack.client("dynamodb")
    table = stack.physical_id("InvitationsTable")
    keys = dynamodb.query(
        TableName=table,
        IndexName="by_customer",
        KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": customer.id}},
    )["Items"]
    if not keys:
        if customer.id in dead:
            verdict.kind, verdict.detail = "failed", f"event dead-lettered: {dead[customer.id]}"
        else:
            verdict.kind, verdict.detail = "lost", "no invitation, no dead letter"
        return verdict
    verdict.invitation_id = keys[0]["invitation_id"]["S"]
    item = dynamodb.get_item(
        TableName=table, Key={"invitation_id": {"S": verdict.invitation_id}}, ConsistentRead=True
    )["Item"]
    status = item["status"]["S"]
    reason = item.get("failure_reason", {}).get("S", "")
    machine = info["outputs"]["SurveyLifecycleArn"]
    arn = f"{machine.replace(':stateMachine:', ':execution:')}:{verdict.invitation_id}"
    sfn = stack.client("stepfunctions")
    try:
        verdict.execution = sfn.describe_execution(executionArn=arn)["status"]
    except sfn.exceptions.ExecutionDoesNotExist:
        verdict.execution = "NOT STARTED"
    if verdict.execution == "FAILED":
        verdict.failed_at = _where_it_failed(sfn, arn)
    if status in SENT:
        verdict.kind, verdict.detail = "sent", status
    elif status == "failed" and reason:
        verdict.kind, verdict.detail = "failed", f"failed: {reason}"
    elif customer.id in dead:
        verdict.kind, verdict.detail = "failed", f"{status}, dead-lettered: {dead[customer.id]}"
    else:
        verdict.kind, verdict.detail = "lost", f"{status} without a reason"
    _check_messages(verdict, item, emails, sms)
    return verdict


def _check_messages(
    verdict: Verdict,
    item: dict[str, Any],
    emails: list[dict[str, Any]],
    sms: list[dict[str, Any]],
) -> None:
    """Each message that reached the customer: one rung (or its fallback), recorded once."""
    attempts = [
        {k: str(next(iter(v.values()))) for k, v in a["M"].items()}
        for a in item.get("attempts", {}).get("L", [])
    ]
    recorded = {a["message_id"]: a for a in attempts if a.get("message_id")}
    slots: Counter[str] = Counter(
        f"{a['channel']} rung {a['rung']}{' fallback' if a.get('fallback') == 'True' else ''}"
        for a in recorded.values()
    )
    for mail in emails:
        if mail["id"] not in recorded:
            rung = mail.get("tags", {}).get("rung")
            slots[f"email rung {rung}"] += 1
            verdict.unrecorded.append(f"email {mail['id']} (rung {rung})")
    for message in sms:
        if message["id"] not in recorded:  # no tags: its rung is unknown, it counts apart
            slots[f"sms {message['id']}"] += 1
            verdict.unrecorded.append(f"sms {message['id']} ({message['text'][:24]!r})")
    verdict.duplicates = [f"{slot} x{n}" for slot, n in slots.items() if n > 1]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    started = time.monotonic()
    with running_stack(
        time_scale=TIME_SCALE, start_time=START, log_name="faults.log", virtual_time=True
    ) as info:
        stack = LocalStackClient(info)
        customers = _customers()
        for customer in customers:
            if customer.refused:
                stack.control(
                    "faults",
                    {"service": "ses", "operation": "SendEmail", "code": "MessageRejected",
                     "times": 1000, "match": str(customer.email)},
                )  # fmt: skip
        for rule in FAULTS:
            stack.control("faults", rule)
        now = datetime.fromisoformat(stack.control("info")["now"])
        events = stack.client("events")
        for first in range(0, len(customers), 10):
            entries = [
                {
                    "EventBusName": info["event_bus_name"],
                    "Source": "com.example.webshop",
                    "DetailType": "Purchase Completed",
                    "Detail": json.dumps(_purchase(customer, now)),
                }
                for customer in customers[first : first + 10]
            ]
            assert not events.put_events(Entries=entries)["FailedEntryCount"]
        answerers = Answerers(stack, customers)
        machine = info["outputs"]["SurveyLifecycleArn"]
        # Every lifecycle walks the whole ladder (quiet hours may move each rung); the
        # customers answer a minute after each step of the stack's clock.
        horizon = now + timedelta(hours=LADDER_HOURS + 3 * QUIET_HOURS + 24)
        now = stack.settle()
        while not _settled(stack, machine):
            if now > horizon:
                raise StageFailed(f"the lifecycles had not ended at {now.isoformat()}")
            answerers.step()
            now = datetime.fromisoformat(stack.advance(then_seconds=60)["now"])
        faults = _lift_faults(info)  # the outcome is read without faults
        dead = _dead_letters(stack, info["outputs"]["FailedDeliveriesQueueUrl"])
        outbox = stack.control("outbox")
        verdicts = [_judge(stack, info, customer, dead, outbox) for customer in customers]
        invocations = stack.control("invocations")["invocations"]
        result = Run(verdicts, faults, invocations, answerers.statuses, time.monotonic() - started)
        print(_summary(result))
        yield result


def _summary(run: Run) -> str:
    verdicts = run.verdicts
    kinds = Counter(v.kind for v in verdicts)
    sent = Counter(v.detail for v in verdicts if v.kind == "sent")
    failed = Counter(
        f"{v.detail}{f', though {v.delivered} sent' if v.delivered else ''}"
        for v in verdicts
        if v.kind == "failed"
    )
    errored = Counter(i["function"] for i in run.invocations if i["errored"])
    invoked = Counter(i["function"] for i in run.invocations)
    sends = sorted(i["ms"] for i in run.invocations if i["function"] == "SendFunction")
    lines = [
        "",
        f"fault injection: {len(verdicts)} surveys, {RATE:.0%} of SES, SNS and DynamoDB calls "
        f"failing; {run.seconds:.0f} s",
        f"  sent {kinds['sent']} ({', '.join(f'{s} {n}' for s, n in sorted(sent.items()))})",
        f"  failed with a reason {kinds['failed']}",
        *(f"    {reason}: {n}" for reason, n in sorted(failed.items())),
        f"  lost {kinds['lost']}",
        *(f"    {v.customer.id}: {v.detail}" for v in verdicts if v.kind == "lost"),
        f"  duplicated {sum(bool(v.duplicates) for v in verdicts)}",
        *(f"    {v.customer.id}: {', '.join(v.duplicates)}" for v in verdicts if v.duplicates),
        f"  sent but not recorded {sum(len(v.unrecorded) for v in verdicts)}",
        *(f"    {v.customer.id} ({v.detail}): {', '.join(v.unrecorded)}"
          for v in verdicts if v.unrecorded),
        f"  lifecycles {dict(Counter(v.execution for v in verdicts if v.execution))}",
        *(f"    {v.customer.id} ({v.detail}) failed at {v.failed_at}"
          for v in verdicts if v.failed_at),
        f"  answers: {sum(len(s) for s in run.answers.values())} submits, HTTP "
        f"{dict(Counter(status for s in run.answers.values() for status in s))}",
        "  invocations that errored: "
        + ", ".join(f"{name} {errored[name]} of {n}" for name, n in sorted(invoked.items())),
        f"  send function: median {sends[len(sends) // 2] / 1000:.1f} s, slowest "
        f"{sends[-1] / 1000:.1f} s (a rung waits {24 * 3600 / TIME_SCALE:g} s for its answer)"
        if sends
        else "  send function: not invoked",
        "  faults injected:",
        *(f"    {f['service']} {f['operation']}: {f['injected']} of {f['seen']} "
          f"({f['injected'] / max(1, f['seen']):.0%}) {f['by_code']}"
          for f in run.faults if f["rate"]),
    ]  # fmt: skip
    return "\n".join(lines)


def test_every_survey_is_sent_or_failed_with_a_reason(run: Run) -> None:
    lost = [(v.customer.id, v.detail, v.failed_at) for v in run.verdicts if v.kind == "lost"]
    assert lost == []
    refused = [v for v in run.verdicts if v.customer.refused]
    assert all(v.kind == "failed" for v in refused), [(v.detail, v.failed_at) for v in refused]
    assert all(f["injected"] > 0 for f in run.faults if f["rate"])  # each service did fail


def test_a_survey_whose_message_went_out_is_not_marked_failed(run: Run) -> None:
    # Once a message is out, its record retries transient errors itself (dal/writes.persisting):
    # a throttled write must not turn a delivered survey into a failed one.
    failed_though_sent = [
        (v.customer.id, v.detail) for v in run.verdicts if v.kind == "failed" and v.delivered
    ]
    assert failed_though_sent == []


def test_no_message_is_sent_twice(run: Run) -> None:
    duplicated = [(v.customer.id, v.duplicates) for v in run.verdicts if v.duplicates]
    assert duplicated == []


def test_every_lifecycle_ended(run: Run) -> None:
    executions = Counter(v.execution for v in run.verdicts if v.invitation_id)
    assert set(executions) <= {"SUCCEEDED", "FAILED"}, executions


def test_every_answer_was_taken_in_the_end(run: Run) -> None:
    # A 5xx is sent again: the last submit of each answering customer got the thank-you page
    # (or, had their survey failed meanwhile, the page that says it is closed).
    failed = {v.customer.id for v in run.verdicts if v.kind == "failed"}
    last = {customer: statuses[-1] for customer, statuses in run.answers.items()}
    assert last
    assert last == {
        c: status if c in failed and status < 500 else 200 for c, status in last.items()
    }
