"""Send a survey to a CSV list of customers by putting `Survey Requested` events on the bus.

Every row is validated before anything is sent; bad rows are reported by line number and not
sent. Each row's request id is `<campaign>:<customer_id>`, so running the same campaign again
surveys nobody twice (the trigger drops repeated request ids), and every eligibility rule
(consent, fatigue, quiet hours) applies as for any other event. Output never contains personal
data: line numbers, field paths and counts only.

    python -m tools.request_surveys customers.csv --survey relationship --campaign spring-2027 \\
        --stack feedback [--profile P] [--region R] [--endpoint-url URL] [--dry-run]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYER = Path(__file__).resolve().parents[1] / "layers" / "survey_core"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

from survey_core.catalogue import load_catalogue  # noqa: E402 - needs the layer on the path
from survey_core.contracts import InvalidEvent, validate_detail  # noqa: E402

SOURCE = "customer-feedback.adhoc"
DETAIL_TYPE = "Survey Requested"
CUSTOMER_COLUMNS = {"email": "email", "phone": "phone", "language": "language"}
SEGMENT_COLUMNS = {
    "business_area": "businessArea",
    "touchpoint": "touchpoint",
    "interaction_channel": "interactionChannel",
    "agent_id": "agentId",
    "product_id": "productId",
    "store_id": "storeId",
}
CONSENT_COLUMNS = {"consent_email": "email", "consent_sms": "sms"}
KNOWN_COLUMNS = {
    "customer_id",
    "time_zone",
    *CUSTOMER_COLUMNS,
    *SEGMENT_COLUMNS,
    *CONSENT_COLUMNS,
}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
MAX_ID = 128


class UsageError(Exception):
    """The command cannot run at all (exit 2)."""


@dataclass(frozen=True)
class Row:
    line: int
    detail: dict[str, Any] | None
    problem: str | None


def request_id(campaign: str, customer_id: str) -> str:
    plain = f"{campaign}:{customer_id}"
    if len(plain) <= MAX_ID:
        return plain
    return f"{campaign}:{hashlib.sha256(customer_id.encode()).hexdigest()[:32]}"


def _flag(value: str, column: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"{column}: must be true or false")


def to_detail(
    record: dict[str, str], survey: str, campaign: str, not_before: str | None
) -> dict[str, Any]:
    """One CSV record as the detail of a Survey Requested event (empty cells are left out)."""
    values = {k: (v or "").strip() for k, v in record.items() if k is not None}
    customer: dict[str, Any] = {"id": values.get("customer_id", "")}
    customer.update({field: values[c] for c, field in CUSTOMER_COLUMNS.items() if values.get(c)})
    if values.get("time_zone"):
        customer["timeZone"] = values["time_zone"]
    consent = {field: _flag(values[c], c) for c, field in CONSENT_COLUMNS.items() if values.get(c)}
    if consent:
        customer["consent"] = consent
    detail: dict[str, Any] = {
        "version": "1",
        "surveyId": survey,
        "requestId": request_id(campaign, customer["id"]),
        "customer": customer,
    }
    segment = {field: values[c] for c, field in SEGMENT_COLUMNS.items() if values.get(c)}
    if segment:
        detail["segment"] = segment
    if not_before:
        detail["notBefore"] = not_before
    return detail


def read_rows(path: Path, survey: str, campaign: str, not_before: str | None) -> list[Row]:
    try:
        stream = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise UsageError(f"{path}: cannot be read ({error.strerror})") from None
    with stream:
        reader = csv.DictReader(stream)
        columns = set(reader.fieldnames or [])
        if "customer_id" not in columns:
            raise UsageError(f"{path}: the header must have a customer_id column")
        unknown = sorted(columns - KNOWN_COLUMNS)
        if unknown:
            raise UsageError(f"{path}: unknown columns {', '.join(unknown)}")
        return list(_validated(reader, survey, campaign, not_before))


def _validated(
    reader: csv.DictReader[str], survey: str, campaign: str, not_before: str | None
) -> Iterable[Row]:
    seen: set[str] = set()
    for record in reader:
        line = reader.line_num  # the physical line this record ended on
        if None in record:
            yield Row(line, None, "more cells than columns")
            continue
        try:
            detail = to_detail(record, survey, campaign, not_before)
            validate_detail(DETAIL_TYPE, detail)
        except ValueError as problem:  # InvalidEvent is a ValueError too
            reason = problem.reason if isinstance(problem, InvalidEvent) else str(problem)
            yield Row(line, None, reason)
            continue
        customer_id = detail["customer"]["id"]
        if customer_id in seen:
            yield Row(line, None, "customer_id: repeats an earlier row")
            continue
        seen.add(customer_id)
        yield Row(line, detail, None)


def _bus_name(session: Any, args: argparse.Namespace) -> str:
    if args.event_bus:
        return str(args.event_bus)
    if not args.stack:
        raise UsageError("give --event-bus NAME or --stack STACK_NAME")
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    [stack] = cloudformation.describe_stacks(StackName=args.stack)["Stacks"]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == "EventBusName":
            return str(output["OutputValue"])
    raise UsageError(f"stack {args.stack} has no EventBusName output")


def send(rows: Sequence[Row], args: argparse.Namespace) -> list[int]:
    """Put the valid rows' events; return the line numbers that could not be put."""
    import boto3
    from survey_core.dal.gateways import EventBus, EventsNotPut
    from tqdm import tqdm

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    bus = EventBus(
        session.client("events", endpoint_url=args.endpoint_url), _bus_name(session, args), SOURCE
    )
    valid = [row for row in rows if row.detail is not None]
    with tqdm(total=len(valid), file=sys.stderr, unit="event", disable=None) as progress:

        def advance(put: int) -> None:
            progress.update(put - progress.n)

        try:
            bus.put_many([(DETAIL_TYPE, row.detail or {}) for row in valid], advance)
        except EventsNotPut as failure:
            return [valid[index].line for index in failure.failed]
    return []


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.request_surveys",
        description="Send a survey to a CSV list of customers (Survey Requested events). "
        "Re-running a campaign sends nobody twice: the request id is <campaign>:<customer_id>.",
    )
    parser.add_argument("csv_file", type=Path, help="customer_id plus optional columns")
    parser.add_argument("--survey", required=True, help="a survey id from the catalogue")
    parser.add_argument("--campaign", required=True, help="names this send; makes it repeatable")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--event-bus", help="the bus name (stack output EventBusName)")
    where.add_argument("--stack", help="read the bus name from this stack's outputs")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--region", help="AWS region")
    parser.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:5000 for the local stack")
    parser.add_argument("--not-before", help="ISO date-time: no send before it")
    parser.add_argument("--dry-run", action="store_true", help="validate only, send nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        catalogue = load_catalogue()
        if catalogue.find(args.survey) is None:
            known = ", ".join(s.id for s in catalogue.surveys)
            raise UsageError(f"unknown survey {args.survey!r}; the catalogue has: {known}")
        rows = read_rows(args.csv_file, args.survey, args.campaign, args.not_before)
        bad = [row for row in rows if row.problem]
        for row in bad:
            print(f"line {row.line}: {row.problem}", file=sys.stderr)
        print(
            f"{len(rows) - len(bad)} rows valid, {len(bad)} rows with errors (not sent)",
            file=sys.stderr,
        )
        if args.dry_run:
            return 1 if bad else 0
        failed = send(rows, args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in failed:
        print(f"line {line}: not sent (the bus refused it after retries)", file=sys.stderr)
    print(f"{len(rows) - len(bad) - len(failed)} surveys requested", file=sys.stderr)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
