"""Eligibility end to end: events in, exactly the expected emails and SMS out, through the
real template and ASL on the local stack.

The stack's clock starts on Monday 16 Nov 2026 at 09:00 Helsinki time (07:00 UTC), on virtual
time: it stands still until the test advances it, from deadline to deadline.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from survey_core.tokens import invitation_id

from infra.local.process import running_stack
from infra.local.scenario import LocalStackClient
from tests.conftest import example_event

pytestmark = pytest.mark.e2e

START = "2026-11-16T09:00:00+02:00"
SCALE = 14400


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    with running_stack(
        time_scale=SCALE, start_time=START, log_name="e2e-rules.log", virtual_time=True
    ) as info:
        yield info


class Customer:
    def __init__(self, name: str, **customer: Any) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.id = f"{name}-{suffix}"
        self.email = f"{name}-{suffix}@example.com"
        self.phone = f"+35840{int(suffix, 16) % 10**7:07d}"
        self.fields = {"id": self.id, "email": self.email, "phone": self.phone, **customer}

    def purchase(self, order: str) -> dict[str, Any]:
        detail = copy.deepcopy(example_event("purchase-completed.json")["detail"])
        detail["orderId"] = f"{order}-{self.id}"
        detail["customer"] = self.fields
        detail["occurredAt"] = "2026-11-16T04:00:00Z"  # the 2 h send delay has passed
        return detail

    def messages(self, outbox: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        emails = [m for m in outbox["emails"] if self.email in m["to"]]
        return emails, [m for m in outbox["sms"] if m["to"] == self.phone]


def _zone_where_it_is_ten_pm(local: LocalStackClient) -> str:
    """A fixed-offset zone where the stack's clock reads about 22:00 now: inside quiet hours
    (21-08) for the next ten hours of local time."""
    now = datetime.fromisoformat(local.control("info")["now"])
    hours_ahead = (22 - now.astimezone(UTC).hour) % 24  # local = UTC + hours_ahead
    offset = hours_ahead if hours_ahead <= 12 else hours_ahead - 24
    # POSIX-style names invert the sign: Etc/GMT-2 is UTC+2.
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _lifecycle_ids(*details: dict[str, Any]) -> list[str]:
    return [invitation_id("post-purchase", f"Purchase Completed:{d['orderId']}") for d in details]


def _finished(local: LocalStackClient, names: list[str]) -> bool:
    sfn = local.client("stepfunctions")
    machine = local.info["outputs"]["SurveyLifecycleArn"]
    statuses = {
        e["name"]: e["status"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]
    }
    return all(statuses.get(name) not in (None, "RUNNING") for name in names)


def _invitation(local: LocalStackClient, invitation: str) -> dict[str, Any]:
    table = local.physical_id("InvitationsTable")
    return local.client("dynamodb").get_item(
        TableName=table, Key={"invitation_id": {"S": invitation}}, ConsistentRead=True
    )["Item"]


def test_duplicate_opted_out_fatigued_and_quiet_hours_events(stack: dict[str, Any]) -> None:
    local = LocalStackClient(stack)
    source = "com.example.webshop"
    # Given four customers
    repeated = Customer("repeated")
    opted_out = Customer("optedout", consent={"email": False, "sms": True})
    fatigued = Customer("fatigued")
    night_owl = Customer("nightowl", timeZone=_zone_where_it_is_ten_pm(local))
    first_order, duplicate = repeated.purchase("order"), repeated.purchase("order")
    fatigued_first, fatigued_second = fatigued.purchase("first"), fatigued.purchase("second")
    quiet = night_owl.purchase("order")
    # When their events arrive: one purchase delivered twice, one purchase from a customer who
    # refused email, two purchases in a row, and a purchase at night in the customer's zone
    local.put_event("Purchase Completed", quiet, source)
    local.put_event("Purchase Completed", first_order, source)
    local.put_event("Purchase Completed", duplicate, source)
    local.put_event("Purchase Completed", opted_out.purchase("order"), source)
    local.put_event("Purchase Completed", fatigued_first, source)
    local.until(
        "the first survey of the fatigued customer",
        lambda: fatigued.messages(local.control("outbox"))[0],
        hours=0,
    )
    local.put_event("Purchase Completed", fatigued_second, source)
    # and every survey has run its course (invitation, SMS reminder, last email, expiry: 7 days)
    started = _lifecycle_ids(first_order, fatigued_first, quiet) + _lifecycle_ids(
        opted_out.purchase("order")
    )
    # (every message is sent inside its execution, so an ended execution has sent them all)
    local.until("every lifecycle to end", lambda: _finished(local, started), hours=10 * 24)

    # Then exactly these messages went out, and no others
    outbox = local.control("outbox")
    counts = {
        name: tuple(len(m) for m in customer.messages(outbox))
        for name, customer in {
            "repeated": repeated,
            "opted out": opted_out,
            "fatigued": fatigued,
            "night owl": night_owl,
        }.items()
    }
    assert counts == {
        # the ladder once: invitation email, SMS reminder, last email; not twice
        "repeated": (2, 1),
        "opted out": (0, 1),  # the invitation by SMS; no email rung left for reminders
        "fatigued": (2, 1),  # the first purchase's survey only
        "night owl": (2, 1),  # sent, but only when the night was over
    }
    # The second purchase was dropped with its reason, and started no lifecycle
    [dropped] = _lifecycle_ids(fatigued_second)
    assert _invitation(local, dropped)["reason"]["S"] == "fatigue-limit"
    assert _finished(local, [dropped]) is False  # never started
    # The night owl's invitation waited for 08:00 in the customer's zone
    night = _invitation(local, _lifecycle_ids(quiet)[0])
    assert night["reason"]["S"] == "quiet-hours"
    send_at = datetime.fromisoformat(night["send_at"]["S"])
    assert send_at.astimezone(ZoneInfo(night_owl.fields["timeZone"])).time() == time(8, 0)
    sent_at = datetime.fromisoformat(night["attempts"]["L"][0]["M"]["at"]["S"])
    assert sent_at >= send_at
