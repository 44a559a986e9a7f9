"""The tracer scenario: one purchase through every stage of the loop, on a running local stack.

Used by `make demo` (which prints each stage) and by the end-to-end test (which asserts them).
It talks to the stack only as a product system, a customer and an operator would: by putting
events on the bus, following the link it received, and reading what was sent.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import boto3

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_EVENT = REPO_ROOT / "events" / "purchase-completed.json"
T = TypeVar("T")
DETRACTOR_MAX = 6  # NPS 0-6: the escalation rule in template.yaml


class StageFailed(AssertionError):
    pass


@dataclass
class Stage:
    name: str
    ok: bool
    detail: str


@dataclass
class ScenarioResult:
    stages: list[Stage] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.stages) and all(stage.ok for stage in self.stages)


class LocalStackClient:
    """What the scenario needs from a running local stack, by its published endpoints."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.endpoint = info["endpoint_url"]
        self._session = boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the local stack accepts any
            region_name=info["region"],
        )

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self.endpoint}/_local/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method="POST" if body is not None else "GET",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def advance(self, *, until: str | None = None, then_seconds: float = 0) -> dict[str, Any]:
        """Virtual time (a stack started with virtual_time): once the stack has settled, jump
        to its next deadline (not past until), settle, then move then_seconds further unless a
        deadline comes first. Returns the stack's instant."""
        body = {"then_seconds": then_seconds, **({"until": until} if until else {})}
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self.endpoint}/_local/clock/advance", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=180) as response:  # noqa: S310
            return dict(json.loads(response.read()))

    def settle(self) -> datetime:
        """Virtual time: until nothing runs or is in flight; the clock stays where it is."""
        return datetime.fromisoformat(self.advance(until=self.control("clock")["now"])["now"])

    def until(self, what: str, condition: Callable[[], Any], *, hours: float) -> Any:
        """Virtual time: condition()'s first true value. The stack settles, then its clock
        jumps to its next deadline and a minute past it between tries, for at most `hours` of
        its time (0: only what settling brings)."""
        now = self.settle()
        horizon = now + timedelta(hours=hours)
        while not (found := condition()):
            if now >= horizon:
                raise StageFailed(f"{what}: not by {horizon.isoformat()} on the stack's clock")
            now = datetime.fromisoformat(self.advance(then_seconds=60)["now"])
        return found

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float, hours: float = 0) -> T:
        """probe()'s first true value: on virtual time, once the stack has settled (and its
        clock has moved on for at most `hours`); on the scaled clock, within `timeout` real
        seconds."""
        if self.info.get("virtual_time"):
            found: T = self.until(what, probe, hours=hours)
            return found
        return wait_for(what, probe, timeout)

    def physical_id(self, logical_id: str) -> str:
        resources = self.client("cloudformation").describe_stack_resources(
            StackName=self.info["stack_name"], LogicalResourceId=logical_id
        )
        return str(resources["StackResources"][0]["PhysicalResourceId"])

    def put_event(self, detail_type: str, detail: dict[str, Any], source: str) -> None:
        result = self.client("events").put_events(
            Entries=[
                {
                    "EventBusName": self.info["event_bus_name"],
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if result["FailedEntryCount"]:
            raise StageFailed(f"PutEvents failed: {result['Entries']}")


def http(method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1) -> T:
    """Poll the stack every `interval` seconds until probe() returns something; the stack
    works in the background."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(interval)
    raise StageFailed(f"timed out after {timeout:g} s waiting for {what}")


REPORT_RECIPIENT = "johto@example.com"  # the Leadership group in reports.yaml


def next_monday_morning(start: datetime, zone: str) -> str:
    local = start.astimezone(ZoneInfo(zone))
    monday = (local + timedelta(days=7 - local.weekday())).replace(
        hour=7, minute=0, second=0, microsecond=0
    )
    return monday.isoformat()


class TracerScenario:
    """Purchase -> email -> SMS reminder -> answer -> stored -> Connect task -> report."""

    def __init__(self, info: dict[str, Any], score: int) -> None:
        self.info = info
        self.stack = LocalStackClient(info)
        self.scale = float(info["time_scale"])
        self.score = score
        self.result = ScenarioResult()
        suffix = uuid.uuid4().hex[:8]
        self.suffix = suffix
        self.email = f"asiakas-{suffix}@example.com"
        self.phone = f"+35840{int(suffix, 16) % 10**7:07d}"
        self.example = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))
        self.detail = self.example["detail"]
        self.detail["orderId"] = f"demo-{suffix}"
        self.detail["customer"].update(
            {"id": f"cust-{suffix}", "email": self.email, "phone": self.phone}
        )
        self.link = ""

    def run(self) -> ScenarioResult:
        for name, step in [
            ("event put on the bus", self.put_purchase),
            ("invitation email sent", self.invitation_email),
            ("SMS reminder sent", self.sms_reminder),
            ("customer answered", self.answer),
            ("answer stored", self.stored),
            ("lifecycle ended", self.lifecycle_ended),
            ("callback task decided", self.connect_task),
            ("callback followed up", self.follow_up),
            ("report mailed", self.report),
            ("bad input handled", self.bad_input),
        ]:
            self._stage(name, step)
        return self.result

    def _stage(self, name: str, run: Callable[[], str]) -> None:
        stages = self.result.stages
        if stages and not stages[-1].ok:
            stages.append(Stage(name, False, "not run: an earlier stage failed"))
            return
        try:
            stages.append(Stage(name, True, run()))
        except Exception as error:
            stages.append(Stage(name, False, f"{type(error).__name__}: {error}"))

    def put_purchase(self) -> str:
        self.stack.put_event("Purchase Completed", self.detail, self.example["source"])
        return f"order {self.detail['orderId']} for customer {self.detail['customer']['id']}"

    def _messages_to_customer(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sent = self.stack.control("outbox")
        emails = [m for m in sent["emails"] if self.email in m["to"]]
        return emails, [m for m in sent["sms"] if m["to"] == self.phone]

    def invitation_email(self) -> str:
        message = self.stack.wait(
            "the invitation email",
            lambda: next(iter(self._messages_to_customer()[0]), None),
            30,
            hours=24,  # the survey's send delay after the purchase, and quiet hours
        )
        match = re.search(r"(https?://[^\"'\s<>?]+/s/[A-Za-z0-9_-]{22})", message["body"])
        if not match:
            raise StageFailed("no survey link in the email")
        self.link = match.group(1)
        self.result.facts["email"] = message
        return f"email to {self.email}: {message['subject']!r}"

    def sms_reminder(self) -> str:
        # The reminder comes after the invitation's wait (24 h), shortened by the time scale.
        timeout = 30 + 3 * 24 * 3600 / self.scale
        message = self.stack.wait(
            "the SMS reminder",
            lambda: next(iter(self._messages_to_customer()[1]), None),
            timeout,
            hours=3 * 24,
        )
        if self.link not in message["text"]:
            raise StageFailed("the SMS does not carry the survey link")
        self.result.facts["sms"] = message
        return f"SMS to {self.phone}: {message['text']!r}"

    def answer(self) -> str:
        """The customer taps their score's one-tap link in the email; the page opens with it
        chosen (the GET stores nothing: mail scanners open every link) and they send it with
        a comment (the POST records it)."""
        one_tap = f"{self.link}?score={self.score}"
        if one_tap not in self.result.facts["email"]["body"]:
            raise StageFailed(f"no one-tap link for {self.score} in the email")
        status, page = http("GET", one_tap)
        if status != 200 or f'value="{self.score}" checked' not in page:
            raise StageFailed(f"survey page answered {status} without the score chosen")
        form = {"score": str(self.score), "comment": "Toimitus myöhästyi."}
        status, page = http("POST", self.link, form)
        if status != 200:
            raise StageFailed(f"answer POST answered {status}")
        return (
            f"tapped {self.score} in the email (page opened with it chosen), "
            f"sent it with a comment: HTTP {status}"
        )

    def stored(self) -> str:
        dynamodb = self.stack.client("dynamodb")
        keys = dynamodb.query(
            TableName=self.stack.physical_id("InvitationsTable"),
            IndexName="by_link_token",
            KeyConditionExpression="link_token = :t",
            ExpressionAttributeValues={":t": {"S": self.link.rsplit("/", 1)[1]}},
        )["Items"]
        invitation_id = keys[0]["invitation_id"]["S"]
        self.result.facts["invitation_id"] = invitation_id
        item = dynamodb.get_item(
            TableName=self.stack.physical_id("ResponsesTable"),
            Key={"invitation_id": {"S": invitation_id}},
            ConsistentRead=True,
        )["Item"]
        stored_score = int(item["scores"]["M"]["nps"]["N"])
        if stored_score != self.score:
            raise StageFailed(f"stored score {stored_score}, expected {self.score}")
        return f"response stored for invitation {invitation_id}: NPS {stored_score}"

    def lifecycle_ended(self) -> str:
        sfn = self.stack.client("stepfunctions")
        machine = self.info["outputs"]["SurveyLifecycleArn"]
        execution = machine.replace(":stateMachine:", ":execution:")
        execution += f":{self.result.facts['invitation_id']}"

        def finished() -> str | None:
            status = str(sfn.describe_execution(executionArn=execution)["status"])
            return None if status == "RUNNING" else status

        status = self.stack.wait("the lifecycle to end", finished, 30)
        if status != "SUCCEEDED":
            raise StageFailed(f"lifecycle execution {status}")
        emails, sms = self._messages_to_customer()
        if (len(emails), len(sms)) != (1, 1):
            raise StageFailed(f"{len(emails)} emails and {len(sms)} SMS, expected 1 and 1")
        return "execution SUCCEEDED at the answer; no further reminder (1 email, 1 SMS)"

    def _tasks_for(self, invitation_id: str) -> list[dict[str, Any]]:
        tasks = self.stack.control("connect/tasks")
        return [t for t in tasks if t["request"]["Attributes"]["invitationId"] == invitation_id]

    def connect_task(self) -> str:
        invitation_id = self.result.facts["invitation_id"]
        if self.score > DETRACTOR_MAX:
            # Let every event delivery in flight finish, then check nothing was escalated.
            self.stack.wait(
                "event deliveries",
                lambda: self.stack.control("invocations")["pending"] == 0 or None,
                30,
            )
            if self._tasks_for(invitation_id):
                raise StageFailed(f"score {self.score} was escalated")
            return f"score {self.score} is not a detractor: no task"
        task = self.stack.wait(
            "the Connect callback task",
            lambda: next(iter(self._tasks_for(invitation_id)), None),
            30,
        )
        self.result.facts["task"] = task
        return f"StartTaskContact {task['request']['Name']!r} -> contact {task['ContactId']}"

    def follow_up(self) -> str:
        """An agent takes the task two hours later and closes it the next day, as Amazon
        Connect's contact events tell; the escalation record then shows the SLA outcome."""
        task = self.result.facts.get("task")
        if task is None:
            return "no task to follow up"
        contact_id = task["ContactId"]
        escalations = self.stack.physical_id("EscalationsTable")
        key = {"invitation_id": {"S": self.result.facts["invitation_id"]}}
        # The record's own clock start: at this stack's time scale a second is hours.
        created = datetime.fromisoformat(
            self.stack.wait(
                "the task on the escalation record",
                lambda: (
                    self.stack.client("dynamodb")
                    .get_item(TableName=escalations, Key=key, ConsistentRead=True)
                    .get("Item", {})
                    .get("escalated_at", {})
                    .get("S")
                ),
                30,
            )
        )
        for event_type, hours in (("CONNECTED_TO_AGENT", 2), ("DISCONNECTED", 26)):
            at = (created + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self.stack.control(
                f"connect/contacts/{contact_id}/events", {"eventType": event_type, "at": at}
            )

        def recorded() -> dict[str, Any] | None:
            item = (
                self.stack.client("dynamodb")
                .get_item(
                    TableName=self.stack.physical_id("EscalationsTable"),
                    Key={"invitation_id": {"S": self.result.facts["invitation_id"]}},
                    ConsistentRead=True,
                )
                .get("Item", {})
            )
            return item if item.get("done_at") else None

        item = self.stack.wait("the follow-up on the escalation record", recorded, 30)
        self.result.facts["follow_up"] = {k: next(iter(v.values())) for k, v in item.items()}
        return (
            f"agent connected, task done: SLA {item['sla']['S']} "
            f"({item['sla_hours']['N']} h), {item['seconds_to_agent']['N']} s to an agent"
        )

    def report(self) -> str:
        """The hourly report schedule at next Monday 07:00 Helsinki: the Leadership group
        (reports.yaml: weekly, everything) gets last week's report."""
        schedule = next(s for s in self.info["schedules"] if "ReportSchedule" in s)
        start = datetime.fromisoformat(self.info["start_time"])
        when = next_monday_morning(start, "Europe/Helsinki")
        fired = self.stack.control(f"schedules/{schedule}/fire", {"scheduledTime": when})
        if fired["errored"]:
            raise StageFailed(f"report function failed: {fired['result']}")
        emails = self.stack.control("outbox")["emails"]
        mail = next((m for m in reversed(emails) if REPORT_RECIPIENT in m["to"]), None)
        if mail is None:
            raise StageFailed(f"no report email to {REPORT_RECIPIENT}")
        # The report names the survey by its display name in the group's language (fi), never
        # by its id (catalogue.yaml: post-purchase is "Oston jälkeen").
        if "Oston jälkeen" not in mail["body"] or "post-purchase" in mail["body"]:
            raise StageFailed("the report does not show the survey by its name")
        self.result.facts["report"] = mail
        return f"schedule fired for {when}: {mail['subject']!r} to {REPORT_RECIPIENT}"

    def bad_input(self) -> str:
        status, page = http("GET", self.link.rsplit("/", 1)[0] + "/" + "x" * 22)
        if status != 404 or "Traceback" in page:
            raise StageFailed(f"unknown token answered {status}")
        broken = {k: v for k, v in self.detail.items() if k != "customer"}
        broken["orderId"] = f"bad-{self.suffix}"
        self.stack.put_event("Purchase Completed", broken, self.example["source"])
        sqs = self.stack.client("sqs")
        url = self.info["outputs"]["RejectedEventsQueueUrl"]

        def rejected() -> str | None:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                body = json.loads(message["Body"])
                if body["event"]["detail"].get("orderId") == broken["orderId"]:
                    return str(body["reason"])
            return None

        reason = self.stack.wait("the invalid event in the dead-letter queue", rejected, 30)
        return f"unknown link -> 404 page; invalid event -> rejected queue ({reason})"


def run_tracer(info: dict[str, Any], score: int = 3) -> ScenarioResult:
    return TracerScenario(info, score).run()
