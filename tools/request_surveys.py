"""Send a survey to a CSV list of customers by putting `Survey Requested` events on the bus.

Every row is validated before anything is sent; bad rows are reported by line number and not
sent. Each row's request id is `<campaign>:<customer_id>`, so running the same campaign again
is idempotent: the trigger drops repeated request ids as duplicates, and every eligibility rule
(consent, fatigue, quiet hours) applies as for any other event. Output never contains personal
data: line numbers, field paths and counts only.

    python -m tools.request_surveys customers.csv --survey relationship --campaign spring-2027 \\
        --stack feedback [--profile P] [--region R] [--endpoint-url URL] [--dry-run]

Exit status: 0 all rows sent (or valid, with --dry-run), 1 some rows bad or not sent,
2 the command could not run (missing file, unknown survey or columns, no bus).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.catalogue import load_catalogue
from survey_core.events.contracts import InvalidEvent, validate_detail

from tools.stack import UsageError, add_aws_arguments, aws_session, stack_output

SOURCE = "customer-feedback.adhoc"
DETAIL_TYPE = "Survey Requested"
CUSTOMER_COLUMNS = {
    "email": "email",
    "phone": "phone",
    "language": "language",
    "time_zone": "timeZone",
}
SEGMENT_COLUMNS = {
    "business_area": "businessArea",
    "touchpoint": "touchpoint",
    "interaction_channel": "interactionChannel",
    "agent_id": "agentId",
    "product_id": "productId",
    "store_id": "storeId",
}
CONSENT_COLUMNS = {"consent_email": "email", "consent_sms": "sms"}
KNOWN_COLUMNS = {"customer_id", *CUSTOMER_COLUMNS, *SEGMENT_COLUMNS, *CONSENT_COLUMNS}
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
MAX_ID = 128


@dataclass(frozen=True)
class Row:
    line: int  # physical line of the file where the record starts (the header is line 1)
    detail: dict[str, Any] | None
    problem: str | None


def request_id(campaign: str, customer_id: str) -> str:
    """Stable per campaign and customer, so a re-run is recognised as a duplicate."""
    plain = f"{campaign}:{customer_id}"
    if len(plain) <= MAX_ID:
        return plain
    return f"{campaign}:{hashlib.sha256(customer_id.encode()).hexdigest()[:32]}"


def _flag(value: str, column: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"{column}: must be true/false, yes/no or 1/0")  # never echo the value


def to_detail(
    values: dict[str, str], survey: str, campaign: str, not_before: str | None
) -> dict[str, Any]:
    """One CSV record as the detail of a Survey Requested event (empty cells are left out)."""
    customer: dict[str, Any] = {"id": values.get("customer_id", "")}
    customer.update({field: values[c] for c, field in CUSTOMER_COLUMNS.items() if values.get(c)})
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


def check_options(survey: str, campaign: str, not_before: str | None) -> None:
    """Options that would make every row invalid are usage errors, not a thousand bad rows."""
    catalogue = load_catalogue()
    if catalogue.find(survey) is None:
        known = ", ".join(s.id for s in catalogue.surveys)
        raise UsageError(f"unknown survey {survey!r}; the catalogue has: {known}")
    probe = to_detail({"customer_id": "probe"}, survey, campaign, not_before)
    try:
        validate_detail(DETAIL_TYPE, probe)
    except InvalidEvent as invalid:
        raise UsageError(
            f"--campaign or --not-before makes every event invalid: {invalid.reason}"
        ) from None
    if len(request_id(campaign, "x" * MAX_ID)) > MAX_ID:
        raise UsageError(f"--campaign is too long (at most {MAX_ID - 33} characters)")


def _records(reader: Any, columns: list[str]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(start line, cells by column, or None when the row has more cells than the header)."""
    end = reader.line_num  # where the header ended; csv counts lines inside quoted cells too
    for cells in reader:
        start, end = end + 1, reader.line_num
        if not cells:  # a blank line
            continue
        if len(cells) > len(columns):
            yield start, None
            continue
        yield start, {c: v.strip() for c, v in zip(columns, cells, strict=False)}


def _row(
    line: int, values: dict[str, str] | None, seen: dict[str, int], options: tuple[str, str, str]
) -> Row:
    survey, campaign, not_before = options
    if values is None:
        return Row(line, None, "more cells than columns")
    customer_id = values.get("customer_id", "")
    if customer_id in seen:
        return Row(line, None, f"customer_id: repeats line {seen[customer_id]}")
    if customer_id:
        seen[customer_id] = line
    try:
        detail = to_detail(values, survey, campaign, not_before or None)
        validate_detail(DETAIL_TYPE, detail)
    except InvalidEvent as invalid:
        return Row(line, None, invalid.reason)
    except ValueError as problem:  # a consent column: the message names the column only
        return Row(line, None, str(problem))
    return Row(line, detail, None)


def read_rows(path: Path, survey: str, campaign: str, not_before: str | None) -> list[Row]:
    """Read and validate the whole file before anything is sent."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream)
            columns = [c.strip() for c in next(reader, [])]
            _check_header(path, columns)
            seen: dict[str, int] = {}
            options = (survey, campaign, not_before or "")
            return [_row(line, values, seen, options) for line, values in _records(reader, columns)]
    except OSError as error:
        raise UsageError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: is not UTF-8 text") from None
    except csv.Error as error:
        raise UsageError(f"{path}: is not valid CSV ({error})") from None


def _check_header(path: Path, columns: list[str]) -> None:
    if "customer_id" not in columns:
        raise UsageError(f"{path}: the header row must have a customer_id column")
    unknown = sorted(set(columns) - KNOWN_COLUMNS)
    if unknown:
        raise UsageError(f"{path}: unknown columns {', '.join(unknown)}")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise UsageError(f"{path}: repeated columns {', '.join(repeated)}")


def _bus_name(session: Any, args: argparse.Namespace) -> str:
    if args.event_bus:
        return str(args.event_bus)
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    return stack_output(cloudformation, args.stack, "EventBusName")


def send(valid: Sequence[Row], args: argparse.Namespace) -> list[int]:
    """Put the valid rows' events; return the line numbers that were not put."""
    from botocore.exceptions import BotoCoreError, ClientError
    from survey_core.dal.gateways import PUT_EVENTS_BATCH, EventBus, EventsNotPut
    from tqdm import tqdm

    session = aws_session(args.profile, args.region)
    bus = EventBus(
        session.client("events", endpoint_url=args.endpoint_url), _bus_name(session, args), SOURCE
    )
    batches = [0]
    with tqdm(total=len(valid), file=sys.stderr, unit="event", disable=None) as progress:

        def advance(put: int) -> None:
            batches[0] += 1
            progress.update(put - progress.n)

        try:
            bus.put_many([(DETAIL_TYPE, row.detail or {}) for row in valid], on_progress=advance)
        except EventsNotPut as failure:
            return [valid[index].line for index in failure.failed]
        except (BotoCoreError, ClientError) as error:
            # Only the error code: a message could quote an event, and so personal data.
            code = error.response["Error"]["Code"] if isinstance(error, ClientError) else ""
            print(f"error: sending stopped ({code or type(error).__name__})", file=sys.stderr)
            done = batches[0] * PUT_EVENTS_BATCH
            if done > progress.n:
                print(
                    f"{done - progress.n} events of earlier batches were refused "
                    "(their lines are unknown; re-running the campaign is safe)",
                    file=sys.stderr,
                )
            return [row.line for row in valid[done:]]
    return []


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.request_surveys",
        description="Send a survey to a CSV list of customers as Survey Requested events. "
        "Every row is validated before anything is sent. The request id is "
        "<campaign>:<customer_id>, so re-running the same campaign is idempotent: the trigger "
        "drops the repeats as duplicates.",
        epilog="CSV columns: customer_id (required), email, phone, language, time_zone, "
        "consent_email, consent_sms (true/false/yes/no/1/0), business_area, touchpoint, "
        "interaction_channel, agent_id, product_id, store_id. Exit status: 0 all sent, "
        "1 some rows bad or not sent, 2 usage error.",
    )
    parser.add_argument(
        "csv_file", type=Path, metavar="CSV_FILE", help="UTF-8 CSV with a header row"
    )
    parser.add_argument(
        "--survey", required=True, metavar="SURVEY_ID", help="a survey id from the catalogue"
    )
    parser.add_argument("--campaign", required=True, help="names this send; makes it repeatable")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--event-bus", metavar="NAME", help="the bus name (stack output EventBusName)"
    )
    where.add_argument(
        "--stack", metavar="STACK_NAME", help="read the bus name from this stack's outputs"
    )
    add_aws_arguments(parser)
    parser.add_argument(
        "--not-before", metavar="ISO_DATETIME", help="ISO date-time with offset: send no earlier"
    )
    parser.add_argument("--dry-run", action="store_true", help="validate only, send nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if not (args.dry_run or args.event_bus or args.stack):
            raise UsageError("give --event-bus NAME or --stack STACK_NAME (or --dry-run)")
        check_options(args.survey, args.campaign, args.not_before)
        rows = read_rows(args.csv_file, args.survey, args.campaign, args.not_before)
        valid = [row for row in rows if row.detail is not None]
        for row in rows:
            if row.problem:
                print(f"line {row.line}: {row.problem}", file=sys.stderr)
        bad = len(rows) - len(valid)
        print(f"{len(valid)} rows valid, {bad} rows with errors (not sent)", file=sys.stderr)
        failed = send(valid, args) if valid and not args.dry_run else []
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in failed:
        print(f"line {line}: not sent", file=sys.stderr)
    if not args.dry_run:
        print(f"{len(valid) - len(failed)} surveys requested", file=sys.stderr)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
