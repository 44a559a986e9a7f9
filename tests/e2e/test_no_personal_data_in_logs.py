"""No personal data in the functions' logs: an end-to-end run on the local stack, its log read
back and scanned for email addresses, phone numbers, comment and SMS texts and survey link
tokens.

Every function of template.yaml runs at least once: the trigger (four started surveys, two
suppressed ones, three rejected events, a Customer Activity and the cohort job's events), the
send function (invitation email, SMS reminder, SMS fallback), the survey pages (the answer
with a comment, the unsubscribe page and its POST), SMS replies (an unreadable text, a score
with a comment, STOP, a text from an unknown number), the delivery function (a bounce and a
complaint), escalation to an Amazon Connect task and its contact events, the report and the
cohort job. The stack runs on virtual time: the customers go one after another, those who
wait for their reminder last (waiting moves the one clock a day on).

The handlers run in the stack's child process and log (Powertools JSON) to its standard
output, which `running_stack` writes to `.local-stack/<log_name>`; the file is read once the
stack has stopped, so every line is flushed. The whole file is scanned, also the lines that
are not Powertools records (warnings, the local web server's access log), with one exception:
the access-log lines of the local survey-page server (it stands in for API Gateway, whose
access logging the template does not turn on) show the request path and so the link token;
they are exempt from the token check only.
"""

from __future__ import annotations

import copy
import html
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.local.process import running_stack
from infra.local.scenario import (
    REPORT_RECIPIENT,
    LocalStackClient,
    StageFailed,
    http,
    next_monday_morning,
    wait_for,
)
from tests.conftest import REPO_ROOT, example_event

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"  # Monday morning in Helsinki
SCALE = 7200  # virtual time: only retry intervals and the SDK's backoff pass scaled
LOG_NAME = "pii-logs.log"
HELSINKI = ZoneInfo("Europe/Helsinki")

WEB_COMMENT = "Kommentti ZQX-PII-MARKER hidden text äö"
SMS_HELP_TEXT = "en ymmärrä ZQV-PII-HELP-MARKER"
SMS_COMMENT = "ZQY-PII-SMS-MARKER tekstiviestin kommentti"
SMS_ANSWER = f"2 {SMS_COMMENT}"
UNKNOWN_SMS = "7 ZQU-PII-UNKNOWN-MARKER kiitos"
MARKERS = ("ZQX-PII-MARKER", "ZQV-PII-HELP-MARKER", "ZQY-PII-SMS-MARKER", "ZQU-PII-UNKNOWN")


def template_services() -> set[str]:
    """POWERTOOLS_SERVICE_NAME of every function in template.yaml."""
    text = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"POWERTOOLS_SERVICE_NAME:\s*([\w-]+)", text))


# ====================================================================== the scanner
EMAIL_RE = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE)
PHONE_RE = re.compile(r"\+[1-9]\d{6,14}")
# The local survey-page server's (http.server) access log: "127.0.0.1 - - [date] "GET /s/..."
ACCESS_LOG_RE = re.compile(r'^\S+ - - \[[^\]]*\] "[A-Z]+ /[su]/\S* HTTP/[\d.]+" \d{3} ')
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _json_unescape(text: str) -> str:
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('\\"', '"').replace("\\/", "/").replace("\\\\", "\\")


DECODERS: tuple[Callable[[str], str], ...] = (
    urllib.parse.unquote,
    urllib.parse.unquote_plus,
    html.unescape,
    _json_unescape,
)


def variants(text: str, depth: int = 3) -> set[str]:
    """The text and what it says once URL-, HTML- or JSON-decoded (also nested), lower-cased."""
    seen = {text}
    frontier = [text]
    for _ in range(depth):
        frontier = [v for t in frontier for v in {d(t) for d in DECODERS} if v not in seen]
        seen.update(frontier)
    return {v.casefold() for v in seen}


@dataclass(frozen=True)
class Secrets:
    personal: dict[str, str]  # exact text -> what it is ("email", "phone", "comment", ...)
    tokens: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finding:
    line_no: int
    service: str
    message: str
    field: str
    kind: str
    text: str

    def describe(self) -> str:
        return (
            f"line {self.line_no}: service={self.service!r} message={self.message!r} "
            f"field={self.field}: {self.kind} {mask(self.text)}"
        )


def mask(text: str) -> str:
    """Enough to recognise the kind of thing, not the thing: p*****************m (20)."""
    shown = text[0] + "*" * (len(text) - 2) + text[-1] if len(text) > 4 else "*" * len(text)
    return f"{shown} ({len(text)} chars)"


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every key and scalar of a parsed JSON record."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield f"{child} (key)", str(key)
            yield from _strings(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif node is not None:
        yield path or "(value)", str(node)


def _hits(text: str, secrets: Secrets, tokens: bool) -> Iterator[tuple[str, str]]:
    for variant in variants(text):
        for needle, kind in secrets.personal.items():
            if needle.casefold() in variant:
                yield kind, needle
        for match in EMAIL_RE.finditer(variant):
            yield "email address", match.group()
        for match in PHONE_RE.finditer(variant):
            yield "phone number", match.group()
        if tokens:
            for token in secrets.tokens:
                if token.casefold() in variant:
                    yield "survey link token", token


def scan_line(line_no: int, line: str, secrets: Secrets) -> list[Finding]:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if isinstance(record, dict):
        service = str(record.get("service", "(no service key)"))
        message = str(record.get("message", "(EMF metrics)" if "_aws" in record else "(none)"))
        fields = [*_strings(record), ("(raw line)", line)]
    else:
        service, message, fields = "(not a Powertools record)", "(plain text)", [("(line)", line)]
    tokens = not ACCESS_LOG_RE.match(line)
    hits: dict[tuple[str, str], tuple[str, str, str]] = {}
    for path, text in fields:
        for kind, hit in _hits(text, secrets, tokens):
            hits.setdefault((kind, hit.casefold()), (path, kind, hit))
    found = {hit for _, _, hit in hits.values()}
    return [
        Finding(
            line_no,
            _shown(service, found, secrets, tokens),
            _shown(message, found, secrets, tokens),
            _shown(path, found, secrets, tokens),
            kind,
            hit,
        )
        for path, kind, hit in hits.values()
    ]


def _shown(name: str, found: set[str], secrets: Secrets, tokens: bool) -> str:
    """A service, message or field name as the failure shows it: masked if it holds anything
    the scan found (a message or a key may be the leak itself)."""
    texts = variants(name)
    if any(hit.casefold() in text for hit in found for text in texts) or any(
        True for _ in _hits(name, secrets, tokens)
    ):
        return mask(name[:200])
    return name[:200]


def scan_log(text: str, secrets: Secrets) -> list[Finding]:
    return [
        finding
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
        for finding in scan_line(number, line, secrets)
    ]


def records(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the log's lines (Powertools log records and EMF metrics)."""
    found = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


# ====================================================================== the scenario
@dataclass
class Person:
    role: str
    consent: dict[str, bool] | None = None
    email: str = ""
    phone: str = ""
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.id = f"cust-{self.role}-{self.suffix}"
        self.email = self.email or f"pii-{self.role}-{self.suffix}@example.com"
        self.phone = self.phone or f"+35840{int(self.suffix, 16) % 10**7:07d}"

    def customer(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"id": self.id, "email": self.email, "phone": self.phone}
        fields.update({"language": "fi", "timeZone": "Europe/Helsinki"})
        if self.consent is not None:
            fields["consent"] = self.consent
        return fields

    def needles(self) -> dict[str, str]:
        found = {self.email: "email", self.phone: "phone"}
        if self.phone.startswith("+"):
            found[self.phone[1:]] = "phone without +"
            found["0" + self.phone[4:]] = "phone, national format"
        if "@" in self.email:
            found[self.email.split("@")[0]] = "email local part"
        return found


class PiiRun:
    """Drives the stack as product systems, customers, SES, Connect and the schedules would."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.stack = LocalStackClient(info)
        self.tokens: set[str] = set()
        self.facts: dict[str, Any] = {}
        self.web = Person("web")
        self.sms = Person("sms")
        self.bounce = Person("bounce")
        self.complaint = Person("complaint")
        self.opted_out = Person("optedout", consent={"email": False, "sms": False})
        # A malformed number with letters no hex id has: "12-34" alone turned up inside a
        # Lambda request id (a UUID) in one run, a false finding.
        self.invalid = Person("invalid", email="broken-address-@@example.com", phone="12-34 ext")
        self.unknown_phone = f"+35850{uuid.uuid4().int % 10**7:07d}"
        self.rejected = [Person(f"rejected{n}") for n in range(3)]
        # Looked up once, before the customers run at once: CloudFormation reads are the
        # slow XML path, and moto answers some concurrent ones with a 500.
        self.tables = {
            name: self.stack.physical_id(name)
            for name in ("InvitationsTable", "ResponsesTable", "EscalationsTable")
        }

    def secrets(self) -> Secrets:
        people = [self.web, self.sms, self.bounce, self.complaint, self.opted_out, self.invalid]
        personal: dict[str, str] = {}
        for person in [*people, *self.rejected]:
            personal.update(person.needles())
        personal.update(
            {
                self.unknown_phone: "phone",
                self.unknown_phone[1:]: "phone without +",
                WEB_COMMENT: "web comment",
                SMS_HELP_TEXT: "SMS text",
                SMS_COMMENT: "SMS comment",
                SMS_ANSWER: "SMS text",
                UNKNOWN_SMS: "SMS text",
                REPORT_RECIPIENT: "report recipient",
                **{marker: "comment or SMS text" for marker in MARKERS},
            }
        )
        return Secrets(personal, frozenset(self.tokens))

    # ------------------------------------------------------------ helpers
    def now(self) -> datetime:
        return datetime.fromisoformat(self.stack.control("info")["now"])

    def purchase(self, person: Person) -> None:
        detail = copy.deepcopy(example_event("purchase-completed.json")["detail"])
        detail["orderId"] = f"order-{person.id}"
        detail["customer"] = person.customer()
        detail["occurredAt"] = (self.now() - timedelta(hours=2)).isoformat()  # send at once
        self.stack.put_event("Purchase Completed", detail, "com.example.webshop")

    def messages(self, person: Person) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sent = self.stack.control("outbox")
        emails = [m for m in sent["emails"] if person.email in m["to"]]
        return emails, [m for m in sent["sms"] if m["to"] == person.phone]

    def first_email(self, person: Person) -> tuple[dict[str, Any], str]:
        """The invitation email and its survey link; the link's token is remembered."""
        mail = self.stack.wait(
            f"the invitation email to {person.role}",
            lambda: next(iter(self.messages(person)[0]), None),
            30,
        )
        match = re.search(r"(https?://[^\"'\s<>?]+/s/([A-Za-z0-9_-]{22}))", mail["body"])
        if not match:
            raise StageFailed(f"no survey link in the email to {person.role}")
        self.tokens.add(match.group(2))
        return mail, match.group(1)

    def wait_sms(self, person: Person, count: int, what: str) -> list[dict[str, Any]]:
        def arrived() -> list[dict[str, Any]] | None:
            sms = self.messages(person)[1]
            return sms if len(sms) >= count else None

        return self.stack.wait(what, arrived, 30, hours=72)

    def invitation(self, person: Person) -> dict[str, Any] | None:
        dynamodb = self.stack.client("dynamodb")
        table = self.tables["InvitationsTable"]
        keys = dynamodb.query(
            TableName=table,
            IndexName="by_customer",
            KeyConditionExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": person.id}},
        )["Items"]
        if not keys:
            return None
        key = {"invitation_id": keys[0]["invitation_id"]}
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return dict(item) if item else None

    def response(self, invitation_id: str) -> dict[str, Any] | None:
        item = (
            self.stack.client("dynamodb")
            .get_item(
                TableName=self.tables["ResponsesTable"],
                Key={"invitation_id": {"S": invitation_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return dict(item) if item else None

    def task_for(self, invitation_id: str) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            tasks = self.stack.control("connect/tasks")
            return next(
                (t for t in tasks if t["request"]["Attributes"]["invitationId"] == invitation_id),
                None,
            )

        return self.stack.wait("the Connect task", found, 30)

    def text(self, sender: str, body: str) -> None:
        self.stack.control("sms/inbound", {"from": sender, "body": body})

    def settle(self) -> None:
        wait_for(
            "event deliveries",
            lambda: self.stack.control("invocations")["pending"] == 0 or None,
            60,
        )

    # ------------------------------------------------------------ the customers
    def web_customer(self) -> None:
        """Email, SMS reminder, the answer with a comment on the page (a detractor: a Connect
        task, then its contact events), then the unsubscribe page and its form."""
        person = self.web
        self.purchase(person)
        _, link = self.first_email(person)
        self.wait_sms(person, 1, "the SMS reminder")
        status, page = http("GET", link)
        assert status == 200 and 'name="score"' in page, f"survey page answered {status}"
        status, _ = http("POST", link, {"score": "3", "comment": WEB_COMMENT})
        assert status == 200, f"answer POST answered {status}"
        invitation = self.stack.wait("the web invitation", lambda: self.invitation(person), 30)
        invitation_id = invitation["invitation_id"]["S"]
        stored = self.stack.wait("the web answer", lambda: self.response(invitation_id), 30)
        assert stored["comment"]["S"] == WEB_COMMENT
        task = self.task_for(invitation_id)
        escalations = self.tables["EscalationsTable"]
        key = {"invitation_id": {"S": invitation_id}}

        def escalation() -> dict[str, Any] | None:
            item = self.stack.client("dynamodb").get_item(
                TableName=escalations, Key=key, ConsistentRead=True
            )
            return item.get("Item")

        escalated_at = self.stack.wait(
            "the escalation record", lambda: (escalation() or {}).get("escalated_at"), 30
        )
        created = datetime.fromisoformat(escalated_at["S"])
        for event_type, hours in (("CONNECTED_TO_AGENT", 2), ("DISCONNECTED", 26)):
            at = (created + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self.stack.control(
                f"connect/contacts/{task['ContactId']}/events", {"eventType": event_type, "at": at}
            )
        self.stack.wait("the follow-up", lambda: (escalation() or {}).get("done_at"), 30)
        unsubscribe = link.replace("/s/", "/u/")
        status, _ = http("GET", unsubscribe)
        assert status == 200, f"unsubscribe page answered {status}"
        status, _ = http("POST", unsubscribe, {"channel": "email"})
        assert status == 200, f"unsubscribe POST answered {status}"
        self.facts["web"] = {"invitation_id": invitation_id, "task": task["ContactId"]}

    def sms_customer(self) -> None:
        """The SMS reminder, then an unreadable reply (help SMS), a score with a comment (a
        detractor: a Connect task) and STOP."""
        person = self.sms
        self.purchase(person)
        self.first_email(person)
        self.wait_sms(person, 1, "the SMS reminder")
        self.text(person.phone, SMS_HELP_TEXT)
        self.wait_sms(person, 2, "the help SMS")
        self.text(person.phone, SMS_ANSWER)
        invitation = self.stack.wait("the SMS invitation", lambda: self.invitation(person), 30)
        invitation_id = invitation["invitation_id"]["S"]
        stored = self.stack.wait("the SMS answer", lambda: self.response(invitation_id), 30)
        assert (stored["channel"]["S"], stored["comment"]["S"]) == ("sms", SMS_COMMENT)
        self.task_for(invitation_id)
        self.text(person.phone, "STOP")
        self.text(self.unknown_phone, UNKNOWN_SMS)
        self.facts["sms"] = {"invitation_id": invitation_id}

    def _email_feedback(self, person: Person, kind: str) -> dict[str, Any]:
        self.purchase(person)
        mail, _ = self.first_email(person)

        def recorded() -> bool:
            attempts = (self.invitation(person) or {}).get("attempts", {}).get("L", [])
            return any(a["M"].get("message_id", {}).get("S") == mail["id"] for a in attempts)

        self.stack.wait("the send recorded", recorded, 30)  # as SES: feedback after the send
        self.stack.control("ses/feedback", {"messageId": mail["id"], "kind": kind})
        return mail

    def bounced_customer(self) -> None:
        """The invitation email bounces: the delivery function has it resent by SMS."""
        self._email_feedback(self.bounce, "bounce")
        [fallback, *_] = self.wait_sms(self.bounce, 1, "the SMS fallback")
        assert fallback["text"].startswith("Miten onnistuimme?")  # it invites: no email came

    def complaining_customer(self) -> None:
        self._email_feedback(self.complaint, "complaint")

        def complained() -> bool:
            attempts = (self.invitation(self.complaint) or {}).get("attempts", {}).get("L", [])
            return any(a["M"]["outcome"]["S"] == "complained" for a in attempts)

        self.stack.wait("the complaint recorded", complained, 30)

    def suppressed_customers(self) -> None:
        """Opted out of both channels; contact points that are not usable: both suppressed."""
        for person, reason in (
            (self.opted_out, "opted-out"),
            (self.invalid, "invalid-contact-point"),
        ):
            self.purchase(person)
            item = self.stack.wait(
                f"the {person.role} invitation", partial(self.invitation, person), 30
            )
            assert item["status"]["S"] == "suppressed", item["status"]
            assert item["reason"]["S"] == reason, item["reason"]

    def rejected_events(self) -> None:
        """Events that break the contract, each carrying personal data: the queue gets them."""
        missing, wrong_type, extra = self.rejected
        base = example_event("purchase-completed.json")["detail"]
        broken = []
        for person, change in (
            (missing, lambda d: d.pop("orderId")),
            (wrong_type, lambda d: d["customer"].update({"phone": int(wrong_type.phone[1:])})),
            (extra, lambda d: d["customer"].update({"note": f"call {extra.phone} {extra.email}"})),
        ):
            detail = copy.deepcopy(base)
            detail.update({"orderId": f"order-{person.id}", "customer": person.customer()})
            change(detail)
            broken.append(person.id)
            self.stack.put_event("Purchase Completed", detail, "com.example.webshop")
        sqs = self.stack.client("sqs")
        url = self.info["outputs"]["RejectedEventsQueueUrl"]
        seen: set[str] = set()

        def all_rejected() -> bool:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                seen.add(json.loads(message["Body"])["event"]["detail"]["customer"]["id"])
            return seen >= set(broken)

        self.stack.wait("the rejected events in their queue", all_rejected, 30)

    def activity(self) -> str:
        """A Customer Activity event for the web customer; the day the cohort job looks at."""
        occurred = self.now()
        detail = {
            "version": "1",
            "customer": self.web.customer(),
            "occurredAt": occurred.isoformat(),
            "activityType": "login",
        }
        self.stack.put_event("Customer Activity", detail, "com.example.webshop")
        return occurred.isoformat()

    # ------------------------------------------------------------ the schedules
    def fire(self, marker: str, when: str) -> dict[str, Any]:
        schedule = next(s for s in self.info["schedules"] if marker in s)
        fired: dict[str, Any] = self.stack.control(
            f"schedules/{schedule}/fire", {"scheduledTime": when}
        )
        assert not fired["errored"], f"{schedule} failed: {fired['result']}"
        return fired

    def report(self) -> None:
        when = next_monday_morning(datetime.fromisoformat(self.info["start_time"]), HELSINKI.key)
        self.fire("ReportSchedule", when)
        emails = self.stack.control("outbox")["emails"]
        assert any(REPORT_RECIPIENT in m["to"] for m in emails), "no report email"

    def results_view(self) -> None:
        """A manager signs in to the results view (a wrong password first), reads the overview
        and the comments, and is refused another business area."""
        from infra.local.results_demo import DEMO_USERS, signed_in_page

        manager = DEMO_USERS[1]
        assert signed_in_page(self.info, manager.email, "", password="Wrong-password-1")[0] == 401
        assert signed_in_page(self.info, manager.email, "?period=4-weeks")[0] == 200
        assert signed_in_page(self.info, manager.email, "/comments?group=low")[0] == 200
        refused = signed_in_page(self.info, manager.email, "?scope=businessArea%3Dstore")
        assert refused[0] == 403

    def cohorts(self, activity_at: str) -> None:
        """The daily job 90 days after the activity: the web customer is inactive. Then the job
        100 days after the stack's clock (past every contact planned meanwhile, e.g. the
        win-back invitation the inactivity starts): every customer is in the recurring
        survey's cohort."""

        def run_on(day: date) -> dict[str, int]:
            when = datetime(day.year, day.month, day.day, 5, 30, tzinfo=HELSINKI).isoformat()
            result: dict[str, int] = json.loads(self.fire("DailyCohortsSchedule", when)["result"])
            return result

        # The web customer's later events (its purchase) may have moved its last activity to a
        # later UTC day under load: each day from the activity's to today's, until one has it.
        day = datetime.fromisoformat(activity_at).astimezone(UTC).date()
        today = self.now().astimezone(UTC).date()
        inactive = run_on(day + timedelta(days=90))
        while inactive["inactive"] < 1 and day < today:
            day += timedelta(days=1)
            inactive = run_on(day + timedelta(days=90))
        assert inactive["inactive"] >= 1, inactive
        recurring = run_on(self.now().astimezone(UTC).date() + timedelta(days=100))
        assert recurring["requested"] >= 1, recurring
        self.facts["cohorts"] = {"inactive": inactive, "recurring": recurring}

    # ------------------------------------------------------------ all of it
    def run(self) -> None:
        activity_at = self.activity()
        # Those that need no time to pass first: the customers waiting for their reminder
        # move the clock a day on, and the others' ladders with it.
        flows = [
            self.suppressed_customers,
            self.rejected_events,
            self.bounced_customer,
            self.complaining_customer,
            self.web_customer,
            self.sms_customer,
        ]
        for flow in flows:  # one after another: a flow's wait moves the one clock for all
            flow()
        self.settle()
        self.report()
        self.results_view()
        self.cohorts(activity_at)
        self.settle()
        self.facts["invocations"] = self.stack.control("invocations")["invocations"]
        self.facts["iam_denied"] = self.stack.control("iam-denied")


@dataclass
class Captured:
    log: str
    path: Path
    run: PiiRun


@pytest.fixture(scope="module")
def captured() -> Captured:
    with running_stack(
        time_scale=SCALE, start_time=START, log_name=LOG_NAME, virtual_time=True
    ) as info:
        run = PiiRun(info)
        run.run()
        path = Path(info["log_path"])
    # The stack has stopped: everything it wrote is in the file.
    return Captured(path.read_text(encoding="utf-8"), path, run)


# ====================================================================== the tests
def test_the_capture_holds_records_of_every_function(captured: Captured) -> None:
    services = template_services()
    assert len(services) >= 9, services
    logged = {r.get("service") for r in records(captured.log) if r.get("message")}
    assert services - logged == set(), f"no log records from {sorted(services - logged)}"
    # Handler errors are not written to this log (the adapter returns them as the result);
    # in AWS the runtime would log them: there must be none for the capture to be complete.
    errored = [i for i in captured.run.facts["invocations"] if i["errored"]]
    assert errored == [], f"functions failed: {[(i['function'], i['errorType']) for i in errored]}"
    # and every function did all of it with its own IAM role from the template (infra/local/iam.py)
    assert captured.run.facts["iam_denied"] == []


def test_no_personal_data_or_link_token_in_the_logs(captured: Captured) -> None:
    secrets = captured.run.secrets()
    assert len(secrets.tokens) >= 4  # web, sms, bounce, complaint
    findings = scan_log(captured.log, secrets)
    if findings:
        shown = "\n".join(f.describe() for f in findings[:50])
        more = f"\n... and {len(findings) - 50} more" if len(findings) > 50 else ""
        pytest.fail(
            f"{len(findings)} personal data or token findings in {captured.path}:\n{shown}{more}",
            pytrace=False,
        )


def test_one_survey_is_followed_across_functions_by_its_invitation_id(
    captured: Captured,
) -> None:
    # The web customer's invitation: made by trigger, sent by send, answered on the page,
    # escalated and followed up; every one of those logs carries its id as correlation id.
    invitation_id = captured.run.facts["web"]["invitation_id"]
    correlated = {
        r.get("service")
        for r in records(captured.log)
        if r.get("message") and r.get("correlation_id") == invitation_id
    }
    assert {"trigger", "send", "collect", "escalate", "follow-up"} <= correlated, correlated


def test_the_funnel_metrics_are_emitted_in_emf(captured: Captured) -> None:
    emitted: dict[tuple[str, str], float] = {}
    for record in records(captured.log):
        directives = record.get("_aws", {}).get("CloudWatchMetrics", [])
        for directive in directives:
            assert directive["Namespace"] == "CustomerFeedback"
            for metric in directive["Metrics"]:
                key = (str(record.get("service")), metric["Name"])
                values = record[metric["Name"]]
                total = sum(values) if isinstance(values, list) else values
                emitted[key] = emitted.get(key, 0) + total
    # triggered, suppressed by reason, sent by channel, answered, detractors, escalations
    for key in [
        ("trigger", "SurveysStarted"),
        ("trigger", "SurveysSuppressed"),
        ("trigger", "EligibilityOptedOut"),
        ("trigger", "EventsRejected"),
        ("send", "Sent_email"),
        ("send", "Sent_sms"),
        ("collect", "Answers"),
        ("collect", "Detractors"),
        ("sms-reply", "Answers"),
        ("escalate", "EscalationsCreated"),
    ]:
        assert emitted.get(key, 0) >= 1, (key, sorted(emitted))
    assert emitted[("collect", "Answers")] == 1  # one web customer answered once


# ---------------------------------------------------------------------- the scanner's own test
PLANTED = Secrets(
    personal={
        "maija.planted@example.com": "email",
        "+358401112233": "phone",
        WEB_COMMENT: "web comment",
        "ZQX-PII-MARKER": "comment marker",
    },
    tokens=frozenset({"AbCdEfGhIjKlMnOpQrStUv"}),
)


def _record(**extra: Any) -> str:
    return json.dumps({"level": "INFO", "message": "survey page", "service": "collect", **extra})


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (_record(to="maija.planted@example.com"), "email"),
        (_record(to="MAIJA.PLANTED@EXAMPLE.COM"), "email"),
        (_record(to="someone.else@another.example.org"), "email address"),
        (_record(url="https://x/?e=maija.planted%40example.com"), "email"),
        (_record(to="maija.planted\\u0040example.com"), "email"),
        (_record(number="+358401112233"), "phone"),
        (_record(number="%2B447700900123"), "phone number"),
        (_record(number=358401112233), "phone"),  # planted needles also without the +
        (_record(comment="kommentti zqx-pii-marker hidden TEXT äö"), "web comment"),
        ("print: Kommentti ZQX-PII-MARKER hidden text \\u00e4\\u00f6", "web comment"),
        (_record(message="sent to maija.planted@example.com"), "email"),  # in the message
        (_record(**{"maija.planted@example.com": 1}), "email"),  # in a key
        (_record(path="/s/AbCdEfGhIjKlMnOpQrStUv"), "survey link token"),
        ("Traceback: sent to maija.planted@example.com failed", "email"),
    ],
)
def test_the_scanner_finds_planted_personal_data(line: str, kind: str) -> None:
    planted = PLANTED.personal | {"358401112233": "phone"}
    findings = scan_log("\n" + line + "\n", Secrets(planted, PLANTED.tokens))
    assert kind in {f.kind for f in findings}
    # The failure names where it is (line, service, message) and masks what it found.
    described = "\n".join(f.describe() for f in findings)
    assert "line 2:" in described
    if line.startswith("{"):
        assert "service='collect'" in described
    for finding in findings:
        assert finding.text.casefold() not in described.casefold()
        assert "@" not in described


def test_the_scanner_passes_a_clean_log_and_exempts_only_tokens_in_the_access_log() -> None:
    clean = "\n".join(
        [
            _record(
                outcome="sent",
                invitation_id="c65fea793289bc8c5fe12657cdbe5a03",
                timestamp="2026-11-24 07:32:05,905+0000",
                function_arn="arn:aws:lambda:eu-north-1:123456789012:function:f",
            ),
            '{"_aws":{"Timestamp":1795505525905},"service":"send","MessagesSent":[1.0]}',
            '127.0.0.1 - - [24/Nov/2026 07:32:14] "GET /s/AbCdEfGhIjKlMnOpQrStUv HTTP/1.1" 200 -',
        ]
    )
    assert scan_log(clean, PLANTED) == []
    leaky = '127.0.0.1 - - [24/Nov/2026 07:32:14] "GET /s/x?e=a%40b.example HTTP/1.1" 200 -'
    assert [f.kind for f in scan_log(leaky, PLANTED)] == ["email address"]
