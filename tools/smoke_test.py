"""Smoke test of a deployed stack: put one `Survey Requested` event for a test customer with
your own address on the stack's bus, and report what happened to it, step by step.

    python -m tools.smoke_test --stack feedback --email you@example.com [--phone +358...]
        [--survey relationship] [--language en] [--timeout 120]
        [--profile P] [--region R] [--endpoint-url URL]

It waits until the invitation's first message went out (or failed, or was suppressed, or is
planned for later, e.g. quiet hours) and prints: the event put, the trigger's decision, the
lifecycle execution's status, each message sent (channel and time), and how many messages wait
in the rejected-events and failed-deliveries queues. To see the answer path, tap a score in the
email and then the send button on the page it opens: the link alone records nothing, so a mail
scanner that opens every link answers nothing. The test customer's id is printed, so its
data can be erased afterwards with `python -m tools.customer_data erase --yes`. Your address
and number are never printed.

Exit status: 0 the first message went out; 1 it did not (the output says where it stopped);
2 the command could not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.catalogue import load_catalogue
from survey_core.events.contracts import InvalidEvent, validate_detail

from tools.stack import UsageError, add_aws_arguments, aws_session, stack_output, stack_resource

SOURCE = "customer-feedback.smoke-test"
DETAIL_TYPE = "Survey Requested"
# Invitation statuses after which the first message's fate is known.
SETTLED = frozenset({"sent", "answered", "expired", "failed", "suppressed"})


@dataclass
class Report:
    """What happened, as lines for the operator; `ok` when the first message went out."""

    lines: list[str] = field(default_factory=list)
    ok: bool = False

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)


def smoke_detail(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    # The time names the run; the random part keeps two runs in one second apart.
    stamp = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    customer: dict[str, Any] = {
        "id": f"smoke-test-{stamp}",
        "email": args.email,
        "language": args.language,
        "consent": {"email": True, "sms": bool(args.phone)},
    }
    if args.phone:
        customer["phone"] = args.phone
    detail = {
        "version": "1",
        "surveyId": args.survey,
        "requestId": f"smoke-test:{stamp}",
        "customer": customer,
        "segment": {"businessArea": "smoke-test"},
    }
    try:
        validate_detail(DETAIL_TYPE, detail)
    except InvalidEvent as invalid:
        raise UsageError(f"the test event is not valid: {invalid}") from None
    return detail


def describe_invitation(invitation: Any, report: Report) -> None:
    report.say(f"  status      {invitation.status}")
    if invitation.reason:
        report.say(f"  reason      {invitation.reason}")
    if invitation.send_at:
        report.say(f"  first send  {invitation.send_at}")
    rungs = zip(invitation.channels, invitation.rung_at, strict=False)
    planned = ", ".join(f"{channel} {at}" for channel, at in rungs)
    report.say(f"  ladder      {planned or '-'}")
    for attempt in invitation.attempts:
        extra = f" ({attempt.reason})" if attempt.reason else ""
        report.say(
            f"  message     rung {int(attempt.rung)}: {attempt.channel} {attempt.outcome} "
            f"at {attempt.at}{extra}"
        )
    if invitation.failure_reason:
        report.say(f"  failure     {invitation.failure_reason}")


def wait_for(
    find: Callable[[], Any], settled: Callable[[Any], bool], timeout: float, poll: float
) -> Any:
    deadline = time.monotonic() + timeout
    found = find()
    while not settled(found) and time.monotonic() < deadline:
        time.sleep(poll)
        found = find()
    return found


def run(args: argparse.Namespace) -> Report:
    from survey_core.dal.customer_data import (
        PersonalTables,
        bind_personal_tables,
        customer_records,
    )
    from survey_core.dal.gateways import EventBus

    session = aws_session(args.profile, args.region)
    endpoint = args.endpoint_url
    cloudformation = session.client("cloudformation", endpoint_url=endpoint)
    bus_name = stack_output(cloudformation, args.stack, "EventBusName")
    queues = {
        "rejected events": stack_output(cloudformation, args.stack, "RejectedEventsQueueUrl"),
        "failed deliveries": stack_output(cloudformation, args.stack, "FailedDeliveriesQueueUrl"),
    }
    tables = PersonalTables(
        **{
            entity: stack_resource(cloudformation, args.stack, logical_id)
            for entity, logical_id in (
                ("customers", "CustomersTable"),
                ("invitations", "InvitationsTable"),
                ("responses", "ResponsesTable"),
                ("escalations", "EscalationsTable"),
            )
        }
    )
    bind_personal_tables(tables, session.region_name, endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    waiting_before = {name: _waiting(sqs, url) for name, url in queues.items()}

    report = Report()
    detail = smoke_detail(args, datetime.now(UTC))
    customer_id = detail["customer"]["id"]
    EventBus(session.client("events", endpoint_url=endpoint), bus_name, SOURCE).put(
        DETAIL_TYPE, detail
    )
    report.say(f"1. event put on {bus_name}: {DETAIL_TYPE}, survey {args.survey}")
    report.say(f"   test customer {customer_id}")

    def invitations() -> list[Any]:
        return customer_records(customer_id).invitations

    found = wait_for(invitations, bool, args.timeout, args.poll)
    if not found:
        report.say(f"2. trigger: no invitation after {args.timeout:g} s")
        _queues(sqs, queues, waiting_before, report)
        return report
    report.say("2. trigger: invitation made")
    [invitation] = found

    def latest() -> Any:
        return next(iter(invitations()), invitation)

    invitation = wait_for(
        latest, lambda i: i.status in SETTLED or _planned_later(i), args.timeout, args.poll
    )
    report.say("3. invitation")
    describe_invitation(invitation, report)
    report.ok = any(a.outcome == "sent" for a in invitation.attempts)
    if invitation.status == "suppressed":
        report.say("   not sent: the reason above is a rule of docs/catalogue.md, not an error")
    elif _planned_later(invitation) and not invitation.attempts:
        report.say("   planned for later (send delay or quiet hours); the lifecycle waits for it")
    if report.ok:
        # Opening a link records nothing (mail scanners open every link of an email).
        report.say(
            "   to answer: tap a score in the message, then the send button on the page it opens"
        )
    _queues(sqs, queues, waiting_before, report)
    report.say(
        "4. clean up: python -m tools.customer_data erase --yes "
        f"--stack-name {args.stack} --customer-id {customer_id}"
    )
    return report


def _planned_later(invitation: Any) -> bool:
    """Pending, with a first send time still ahead."""
    if invitation.status != "pending" or not invitation.send_at:
        return False
    return bool(datetime.fromisoformat(invitation.send_at) > datetime.now(UTC))


def _waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0))


def _queues(sqs: Any, queues: dict[str, str], before: dict[str, int], report: Report) -> None:
    for name, url in queues.items():
        now = _waiting(sqs, url)
        grown = f", {now - before[name]} more than before the test" if now > before[name] else ""
        report.say(f"   {name} queue: {now} waiting{grown}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.smoke_test",
        description="Put one test survey request on a deployed stack's bus and report what "
        "happened to it.",
        epilog="Exit status: 0 the first message went out, 1 it did not, 2 usage error.",
    )
    parser.add_argument("--stack", required=True, metavar="STACK_NAME", help="the stack's name")
    parser.add_argument("--email", required=True, help="your own address: the survey goes there")
    parser.add_argument("--phone", help="your own number in E.164 (+358...): SMS reminders too")
    parser.add_argument(
        "--survey", default="relationship", help="a survey sent on request (default relationship)"
    )
    parser.add_argument("--language", default="en", choices=["fi", "sv", "en"])
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait per step (default 120)"
    )
    parser.add_argument("--poll", type=float, default=2, help=argparse.SUPPRESS)
    add_aws_arguments(parser)
    args = parser.parse_args(argv)
    if args.phone and not re.fullmatch(r"\+[1-9]\d{6,14}", args.phone):
        parser.error("--phone must be E.164, e.g. +358401234567")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = parse_args(argv)
    try:
        if args.survey not in {s.id for s in load_catalogue().surveys}:
            raise UsageError(f"unknown survey {args.survey!r} (see the catalogue)")
        report = run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"error: an AWS call failed: {error}", file=sys.stderr)
        return 1
    print("smoke test: " + ("ok, the first message went out" if report.ok else "NOT OK"))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
