"""Channel-ladder scenarios on a running local stack: one customer, one purchase, and a script
of what happens (the customer answers, opts out, the email bounces, SES or SNS throttle). Each
reports what reached the customer, how the invitation ended and the lifecycle's state
transitions (what Step Functions Standard bills).

Used by the end-to-end ladder tests and by `make bench`. Scenarios talk to the stack as a
product system, a customer and the mail system would; many run at once on one stack.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .scenario import EXAMPLE_EVENT, LocalStackClient, StageFailed, http, wait_for

# post-purchase: email, SMS 24 h later, a last email 72 h after that, open 72 h more.
LADDER_HOURS = 24 + 72 + 72
QUIET_HOURS = 11  # the longest a planned message can move (21:00-08:00)


@dataclass(frozen=True)
class Script:
    name: str
    email: bool = True
    phone: bool = True
    sms_consent: bool = True
    answer_after: int | None = None  # answer once this many messages reached the customer
    opt_out_email_after: int | None = None  # follow the unsubscribe link after this many
    bounce_first_email: bool = False  # SES reports the first email as a hard bounce
    throttle: int = 0  # throttling errors injected on this customer's first sends per channel
    refuse_email: bool = False  # SES refuses every email to this customer (MessageRejected)
    # SNS answers every SMS to this customer with this error (neither a refusal of the number
    # nor throttling: the stack's own problem, e.g. AuthorizationError), so its rungs fail
    fail_sms: str = ""
    sms_replies: tuple[str, ...] = ()  # texted back, one by one, once an SMS has arrived


@dataclass
class Outcome:
    script: Script
    invitation_id: str = ""
    emails: list[dict[str, Any]] = field(default_factory=list)
    sms: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""  # the invitation's, in DynamoDB
    failure_reason: str = ""
    execution: str = ""  # the lifecycle execution's
    states: list[str] = field(default_factory=list)  # states entered, in order
    retries: int = 0  # task attempts beyond the first of each state entered
    attempts: list[dict[str, str]] = field(default_factory=list)
    response: dict[str, str] = field(default_factory=dict)  # channel, score, comment if stored
    announced: list[str] = field(default_factory=list)  # detail-types put about it, in order
    seconds: float = 0.0

    @property
    def transitions(self) -> int:
        """Billed state transitions: every state entered, and every retry of a task."""
        return len(self.states) + self.retries


class LadderScenario:
    def __init__(self, info: dict[str, Any], script: Script) -> None:
        self.info = info
        self.script = script
        self.stack = LocalStackClient(info)
        self.scale = float(info["time_scale"])
        suffix = uuid.uuid4().hex[:10]
        self.customer_id = f"ladder-{suffix}"
        self.email = f"ladder-{suffix}@example.com"
        self.phone = f"+35850{int(suffix, 16) % 10**7:07d}"
        self.outcome = Outcome(script)
        self._done: set[str] = set()
        self._token = ""

    # ------------------------------------------------------------ run
    def run(self) -> Outcome:
        started = time.monotonic()
        self._begin()
        wait_for("the invitation and its lifecycle", self._started, 30)
        deadline = time.monotonic() + 60 + (LADDER_HOURS + 3 * QUIET_HOURS) * 3600 / self.scale
        while self._execution_status() == "RUNNING":
            if time.monotonic() > deadline:
                raise StageFailed(f"{self.script.name}: the lifecycle did not end in time")
            self._act()
            time.sleep(0.1)
        self._collect()
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def _begin(self) -> None:
        """The faults the script asks for, then the purchase."""
        if self.script.throttle:
            self._inject_throttling()
        if self.script.refuse_email:
            self.stack.control(
                "faults",
                {"service": "ses", "operation": "SendEmail", "code": "MessageRejected",
                 "times": 1000, "match": self.email},
            )  # fmt: skip
        if self.script.fail_sms:
            self.stack.control(
                "faults",
                {"service": "sns", "operation": "Publish", "code": self.script.fail_sms,
                 "status": 403, "times": 1000, "match": self.phone},
            )  # fmt: skip
        self.stack.put_event("Purchase Completed", self._purchase(), "com.example.webshop")

    def _purchase(self) -> dict[str, Any]:
        detail: dict[str, Any] = json.loads(EXAMPLE_EVENT.read_text(encoding="utf-8"))["detail"]
        now = datetime.fromisoformat(self.stack.control("info")["now"])
        # Sent at once: the survey's two-hour delay has passed.
        detail["occurredAt"] = (now - timedelta(hours=2)).isoformat()
        detail["orderId"] = f"order-{self.customer_id}"
        customer: dict[str, Any] = {"id": self.customer_id, "language": "fi"}
        if self.script.email:
            customer["email"] = self.email
        if self.script.phone:
            customer["phone"] = self.phone
        customer["consent"] = {"email": True, "sms": self.script.sms_consent}
        detail["customer"] = customer
        return detail

    def _inject_throttling(self) -> None:
        for service, operation, code, status, match in (
            ("ses", "SendEmail", "TooManyRequestsException", 429, self.email),
            ("sns", "Publish", "Throttled", 400, self.phone),
        ):
            self.stack.control(
                "faults",
                {"service": service, "operation": operation, "code": code, "status": status,
                 "times": self.script.throttle, "match": match},
            )  # fmt: skip

    # ------------------------------------------------------------ the customer and the mail system
    def _messages(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sent = self.stack.control("outbox")
        emails = [m for m in sent["emails"] if self.email in m["to"]]
        return emails, [m for m in sent["sms"] if m["to"] == self.phone]

    def _act(self) -> bool:
        """Do what the script says to what has arrived so far; True when something was done."""
        done = len(self._done)
        self._react()
        return len(self._done) > done

    def _react(self) -> None:
        emails, sms = self._messages()
        received = len(emails) + len(sms)
        script = self.script
        # As SES would: the bounce comes after the send completed (and was recorded).
        if (
            script.bounce_first_email
            and emails
            and "bounce" not in self._done
            and emails[0]["id"] in {a.get("message_id") for a in self._attempts()}
        ):
            self._done.add("bounce")
            self.stack.control("ses/feedback", {"messageId": emails[0]["id"], "kind": "bounce"})
        if script.opt_out_email_after and received >= script.opt_out_email_after:
            self._once("opt-out", lambda: http("POST", self._link("u"), {"channel": "email"}))
        if script.answer_after and received >= script.answer_after:
            self._once("answer", self._answer)
        if sms:
            for number, text in enumerate(script.sms_replies):
                if f"sms-reply-{number}" not in self._done:
                    self._once(f"sms-reply-{number}", lambda text=text: self._text_back(text))
                    break

    def _answer(self) -> tuple[int, str]:
        """The one-tap link for 9 (a GET: the page opens with 9 chosen, nothing stored), then
        the page's send button (the POST that records it)."""
        link = self._link("s")
        status, page = http("GET", link + "?score=9")
        if status != 200:
            return status, page
        return http("POST", link, {"score": "9"})

    def _text_back(self, text: str) -> tuple[int, Any]:
        self.stack.control("sms/inbound", {"from": self.phone, "body": text})
        return 200, None

    def _once(self, action: str, run: Any) -> None:
        if action in self._done:
            return
        self._done.add(action)
        status, _ = run()
        if status != 200:
            raise StageFailed(f"{self.script.name}: {action} answered HTTP {status}")

    def _link(self, kind: str) -> str:
        return f"{self.info['survey_url']}/{kind}/{self._token}"

    def _started(self) -> bool:
        """The customer's invitation exists and its lifecycle has started."""
        keys = self.stack.client("dynamodb").query(
            TableName=self.stack.physical_id("InvitationsTable"),
            IndexName="by_customer",
            KeyConditionExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": self.customer_id}},
        )["Items"]
        if not keys:
            return False
        self.outcome.invitation_id = str(keys[0]["invitation_id"]["S"])
        self._token = str(self._invitation()["link_token"]["S"])
        sfn = self.stack.client("stepfunctions")
        try:
            sfn.describe_execution(executionArn=self._execution_arn())
        except sfn.exceptions.ExecutionDoesNotExist:
            return False
        return True

    # ------------------------------------------------------------ what happened
    def _execution_arn(self) -> str:
        machine = self.info["outputs"]["SurveyLifecycleArn"]
        return f"{machine.replace(':stateMachine:', ':execution:')}:{self.outcome.invitation_id}"

    def _execution_status(self) -> str:
        sfn = self.stack.client("stepfunctions")
        return str(sfn.describe_execution(executionArn=self._execution_arn())["status"])

    def _collect(self) -> None:
        outcome = self.outcome
        outcome.execution = self._execution_status()
        # Deliveries in flight (the answer's event, an SES event) settle before counting.
        wait_for(
            "event deliveries",
            lambda: self.stack.control("invocations")["pending"] == 0 or None,
            30,
        )
        outcome.emails, outcome.sms = self._messages()
        history = self.stack.client("stepfunctions").get_execution_history(
            executionArn=self._execution_arn(), maxResults=1000
        )["events"]
        outcome.states = [
            e["stateEnteredEventDetails"]["name"]
            for e in history
            if e["type"].endswith("StateEntered")
        ]
        scheduled = sum(e["type"] == "TaskScheduled" for e in history)
        tasks_entered = sum(e["type"] == "TaskStateEntered" for e in history)
        outcome.retries = max(0, scheduled - tasks_entered)
        invitation = self._invitation()
        outcome.status = invitation["status"]["S"]
        outcome.failure_reason = invitation.get("failure_reason", {}).get("S", "")
        outcome.attempts = self._attempts()
        outcome.announced = self._announced()
        stored = self.stack.client("dynamodb").get_item(
            TableName=self.stack.physical_id("ResponsesTable"),
            Key={"invitation_id": {"S": self.outcome.invitation_id}},
            ConsistentRead=True,
        )
        if "Item" in stored:
            item = stored["Item"]
            outcome.response = {
                "channel": item["channel"]["S"],
                "score": next(iter(item["scores"]["M"].values()))["N"],
                "comment": item.get("comment", {}).get("S", ""),
            }

    def _announced(self) -> list[str]:
        """The detail-types the functions put on the bus about this invitation, in order (the
        adapter keeps the functions' recent AWS requests)."""
        found = []
        for call in self.stack.control("function-calls"):
            if (call["service"], call["operation"]) != ("events", "PutEvents"):
                continue
            for entry in call["params"].get("Entries", []):
                detail = json.loads(entry.get("Detail") or "{}")
                if detail.get("invitationId") == self.outcome.invitation_id:
                    found.append(str(entry["DetailType"]))
        return found

    def _invitation(self) -> dict[str, Any]:
        return dict(
            self.stack.client("dynamodb").get_item(
                TableName=self.stack.physical_id("InvitationsTable"),
                Key={"invitation_id": {"S": self.outcome.invitation_id}},
                ConsistentRead=True,
            )["Item"]
        )

    def _attempts(self) -> list[dict[str, str]]:
        return [
            {k: str(next(iter(v.values()))) for k, v in a["M"].items()}
            for a in self._invitation().get("attempts", {}).get("L", [])
        ]


def run_scripts(info: dict[str, Any], scripts: list[Script]) -> dict[str, Outcome]:
    """Run scripts at once on one stack (each its own customer); by script name."""
    from concurrent.futures import ThreadPoolExecutor

    if info.get("virtual_time"):
        return _run_on_virtual_time(info, scripts)
    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        outcomes = list(pool.map(lambda s: LadderScenario(info, s).run(), scripts))
    return {outcome.script.name: outcome for outcome in outcomes}


REACTION = 60.0  # seconds of the stack's time between a message arriving and the customer acting


def _run_on_virtual_time(info: dict[str, Any], scripts: list[Script]) -> dict[str, Outcome]:
    """Every scenario reacts to what has arrived, then the clock moves: by a reaction time
    after something was done (the next reply comes a minute after the help SMS, as before),
    else to the next deadline and a reaction time past it. Nothing depends on the machine's
    speed: a customer always answers a minute after the message."""
    stack = LocalStackClient(info)
    scenarios = [LadderScenario(info, script) for script in scripts]
    for scenario in scenarios:
        scenario._begin()
    now = stack.settle()
    horizon = now + timedelta(hours=LADDER_HOURS + 3 * QUIET_HOURS + 24)
    missing = [s.script.name for s in scenarios if not s._started()]
    if missing:
        raise StageFailed(f"no invitation or lifecycle for {missing}")
    running = list(scenarios)
    while running:
        if now > horizon:
            names = [s.script.name for s in running]
            raise StageFailed(f"lifecycles still running at {now.isoformat()}: {names}")
        acted = [scenario._act() for scenario in running]
        if any(acted):
            until = (now + timedelta(seconds=REACTION)).isoformat()
            now = datetime.fromisoformat(stack.advance(until=until)["now"])
        else:
            now = datetime.fromisoformat(stack.advance(then_seconds=REACTION)["now"])
        for scenario in [s for s in running if s._execution_status() != "RUNNING"]:
            scenario._collect()
            running.remove(scenario)
    return {scenario.script.name: scenario.outcome for scenario in scenarios}
