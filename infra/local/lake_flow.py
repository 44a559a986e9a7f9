"""Surveys through the real flow on a running local stack, for the data lake to show.

Purchases and closed service contacts go on the bus; each customer answers as planned: on the
survey page at once or after the reminder, by SMS reply, or not at all; detractors' callback
tasks get Amazon Connect contact events (completed in time, not reached, or left open). Used by
`make analytics` (tools/lake.py demo), the end-to-end test (tests/e2e/test_lake.py) and
bench/analytics.py (export lag). It talks to the stack as product systems, customers and the
contact center would.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .scenario import LocalStackClient, http, wait_for

LINK = re.compile(r"(https?://[^\"'\s<>?]+/s/[A-Za-z0-9_-]{22})")
PURCHASE = "post-purchase"  # NPS; email, SMS reminder 24 h later, a last email
SERVICE = "service-contact"  # CSAT and CES; SMS, email reminder 24 h later; sampled 1 in 2
HOW = ("page", "page-after-reminder", "sms", "sms-after-reminder", "none")
FOLLOW_UPS = ("completed", "not-reached", "open")


@dataclass
class Plan:
    customer: str
    survey: str
    how: str  # one of HOW
    scores: dict[str, int] = field(default_factory=dict)
    comment: str | None = None
    segment: dict[str, str] = field(default_factory=dict)
    follow_up: str = "open"  # a detractor's task: one of FOLLOW_UPS
    # Filled in by the flow
    email: str = ""
    phone: str = ""
    link: str = ""
    answered_at: float | None = None  # time.time() when the answer was sent

    @property
    def answers(self) -> bool:
        return self.how != "none"


def sampled_customer(survey: str, stem: str, rate: float) -> str:
    """A customer id the survey's sampling takes (deterministic: eligibility.sampled)."""
    from survey_core.rules.eligibility import sampled

    for number in range(1000):
        candidate = f"{stem}-{number}"
        if sampled(candidate, survey, rate):
            return candidate
    raise RuntimeError("no sampled customer id found")


def demo_plans(tag: str = "lake") -> list[Plan]:
    """Twelve purchases and four service contacts, answered every way there is."""
    areas, touchpoints = ("webshop", "store"), ("checkout", "delivery")
    nps = [9, 10, 3, 7, 10, 2, 8, 6, 9, 5, 0, 10]
    # A purchase survey asks by email first and by SMS at its reminder (catalogue.yaml): its
    # customers can answer by SMS only after the reminder.
    hows = ["page", "page", "page", "page-after-reminder", "page-after-reminder"]
    hows += ["sms-after-reminder"]
    hows += ["sms-after-reminder", "page", "none", "page-after-reminder", "page", "none"]
    follow = {2: "completed", 5: "not-reached", 10: "completed"}
    plans = [
        Plan(
            customer=f"{tag}-p{n:02d}",
            survey=PURCHASE,
            how=hows[n],
            scores={"nps": nps[n]},
            comment=f"Kommentti {n} ZQX-{tag.upper()}-COMMENT-{n:02d}" if n % 2 == 0 else None,
            segment={"businessArea": areas[n % 2], "touchpoint": touchpoints[n // 6]},
            follow_up=follow.get(n, "open"),
        )
        for n in range(12)
    ]
    service = [({"csat": 2, "ces": 3}, "sms"), ({"csat": 5, "ces": 6}, "page")]
    service += [({"csat": 4, "ces": 2}, "page-after-reminder"), ({"csat": 3, "ces": 4}, "none")]
    for n, (scores, how) in enumerate(service):
        plans.append(
            Plan(
                customer=sampled_customer(SERVICE, f"{tag}-s{n}", 0.5),
                survey=SERVICE,
                how=how,
                scores=scores,
                comment=f"Palaute {n} ZQX-{tag.upper()}-SERVICE-{n}" if n != 1 else None,
                segment={"businessArea": "customer-service", "touchpoint": "service"},
                follow_up="completed" if n == 0 else "open",
            )
        )
    return plans


class LakeFlow:
    def __init__(self, info: dict[str, Any], plans: list[Plan]) -> None:
        self.info = info
        self.stack = LocalStackClient(info)
        self.plans = plans
        self.scale = float(info["time_scale"])
        self.virtual = bool(info.get("virtual_time"))

    # ------------------------------------------------------------ events
    def put_events(self) -> None:
        now = datetime.fromisoformat(self.stack.control("info")["now"])
        entries = [self._entry(plan, now, n) for n, plan in enumerate(self.plans)]
        events = self.stack.client("events")
        for first in range(0, len(entries), 10):
            failed = events.put_events(Entries=entries[first : first + 10])["FailedEntryCount"]
            if failed:
                raise RuntimeError("PutEvents refused an event")

    def _entry(self, plan: Plan, now: datetime, number: int) -> dict[str, Any]:
        digits = f"{number:03d}{abs(hash(plan.customer)) % 10**4:04d}"
        plan.email = f"{plan.customer}@example.com"
        plan.phone = f"+35840{digits}"
        customer = {
            "id": plan.customer,
            "email": plan.email,
            "phone": plan.phone,
            "language": "fi",
            "timeZone": "Europe/Helsinki",
            "consent": {"email": True, "sms": True},
        }
        if plan.survey == PURCHASE:
            detail_type, source = "Purchase Completed", "com.example.webshop"
            detail: dict[str, Any] = {
                "version": "1",
                "orderId": f"order-{plan.customer}",
                "occurredAt": (now - timedelta(hours=2)).isoformat(),
                "totalAmount": {"value": 10.0, "currency": "EUR"},
            }
        else:
            detail_type, source = "Service Contact Closed", "com.example.contactcenter"
            detail = {
                "version": "1",
                "contactId": f"case-{plan.customer}",
                "closedAt": (now - timedelta(hours=1)).isoformat(),
                "resolution": "resolved",
            }
        detail.update(customer=customer, segment=plan.segment)
        return {
            "EventBusName": self.info["event_bus_name"],
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
        }

    # ------------------------------------------------------------ messages
    def _outbox(self) -> dict[str, Any]:
        result: dict[str, Any] = self.stack.control("outbox")
        return result

    def _messages(self, plan: Plan, outbox: dict[str, Any]) -> tuple[list[str], list[str]]:
        emails = [m["body"] for m in outbox["emails"] if plan.email in m["to"]]
        texts = [m["text"] for m in outbox["sms"] if m["to"] == plan.phone]
        return emails, texts

    def wait_for_invitations(self, timeout: float = 90) -> None:
        def all_invited() -> bool | None:
            outbox = self._outbox()
            for plan in self.plans:
                emails, texts = self._messages(plan, outbox)
                found = LINK.search(" ".join(emails + texts))
                if found:
                    plan.link = found.group(1)
            return all(plan.link for plan in self.plans) or None

        self.stack.wait("every invitation", all_invited, timeout, hours=24)

    def wait_for_reminders(self, plans: Iterable[Plan]) -> None:
        """The reminder (the second message) of each plan: 24 h later on the stack's clock."""
        waiting = list(plans)

        def reminded() -> bool | None:
            outbox = self._outbox()
            return all(sum(map(len, self._messages(p, outbox))) >= 2 for p in waiting) or None

        self.stack.wait("the reminders", reminded, 30 + 2 * 24 * 3600 / self.scale, hours=48)

    # ------------------------------------------------------------ answers
    def answer(self, plan: Plan) -> None:
        if plan.how.startswith("sms"):
            # A reply to no SMS answers nothing (logic/replies.py: no open survey asked this
            # number by SMS): a plan that does so is wrong, and would only show as a missing
            # callback task much later.
            if not self._messages(plan, self._outbox())[1]:
                raise RuntimeError(f"{plan.customer} answers by SMS but got no SMS ({plan.how})")
            score = next(iter(plan.scores.values()))
            text = f"{score} {plan.comment}" if plan.comment else str(score)
            self.stack.control("sms/inbound", {"from": plan.phone, "body": text})
        else:
            [first, *others] = list(plan.scores.items())
            form = {"score": str(first[1])}
            form.update({f"score_{metric}": str(score) for metric, score in others})
            if plan.comment:
                form["comment"] = plan.comment
            status, _ = http("POST", plan.link, form)
            if status != 200:
                raise RuntimeError(f"the answer POST answered {status}")
        plan.answered_at = time.time()

    def answer_all(self) -> None:
        at_once = [p for p in self.plans if p.how in ("page", "sms")]
        later = [p for p in self.plans if p.how.endswith("after-reminder")]
        for plan in at_once:
            self.answer(plan)
        self.wait_for_reminders(later)
        for plan in later:
            self.answer(plan)

    # ------------------------------------------------------------ callbacks
    def follow_up_tasks(self, timeout: float = 60) -> None:
        """Contact events for the detractors' tasks, as Amazon Connect publishes them."""
        wanted = [p for p in self.plans if p.answers and p.follow_up != "open"]
        ids = {self.invitation_id(p): p for p in wanted}

        def tasks() -> dict[str, Any] | None:
            found = {
                t["request"]["Attributes"]["invitationId"]: t
                for t in self.stack.control("connect/tasks")
            }
            return found if set(ids) <= set(found) else None

        found = self.stack.wait("the callback tasks", tasks, timeout)  # settled: they are there
        for invitation_id, plan in ids.items():
            task = found[invitation_id]
            created = datetime.fromisoformat(task["at"])
            events = [("CONNECTED_TO_AGENT", 2), ("DISCONNECTED", 26)]
            if plan.follow_up == "not-reached":
                events = [("DISCONNECTED", 30)]
            for event_type, hours in events:
                at = (created + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                path = f"connect/contacts/{task['ContactId']}/events"
                self.stack.control(path, {"eventType": event_type, "at": at})

    def invitation_id(self, plan: Plan) -> str:
        token = urllib.parse.urlparse(plan.link).path.rsplit("/", 1)[1]
        keys = self.stack.client("dynamodb").query(
            TableName=self.stack.physical_id("InvitationsTable"),
            IndexName="by_link_token",
            KeyConditionExpression="link_token = :t",
            ExpressionAttributeValues={":t": {"S": token}},
        )["Items"]
        return str(keys[0]["invitation_id"]["S"])

    # ------------------------------------------------------------ quiet
    def settle(self, timeout: float = 60) -> None:
        """Until nothing is in flight: events, stream records (the lake's too)."""
        if self.virtual:
            self.stack.settle()
            return
        wait_for(
            "the stack to settle",
            lambda: self.stack.control("invocations")["pending"] == 0 or None,
            timeout,
        )

    def run(self) -> None:
        self.put_events()
        self.wait_for_invitations()
        self.answer_all()
        self.follow_up_tasks()
        self.settle()


def run_flow(info: dict[str, Any], plans: list[Plan] | None = None) -> list[Plan]:
    flow = LakeFlow(info, plans or demo_plans())
    flow.run()
    return flow.plans
