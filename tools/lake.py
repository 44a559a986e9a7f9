"""The data lake from a checkout (docs/analytics.md).

    python -m tools.lake demo                    # make analytics: a local stack, surveys through
                                                 # the real flow, the named queries on DuckDB
    python -m tools.lake query [--from D --to D] [--query NAME] [--stack-name NAME]
        [--endpoint-url http://127.0.0.1:5000]   # a running stack's lake on DuckDB
    python -m tools.lake backfill --stack-name NAME [--yes]
                                                 # what the tables held before the export
    python -m tools.lake churn --csv FILE --stack-name NAME
                                                 # the data team's churn list, pseudonymized

query reads the named queries and the tables' columns from template.yaml, copies the lake
objects the period needs from the stack's bucket (the local stack's, or a deployed one with
the operator's credentials) and runs the queries on DuckDB, translated from Athena's dialect.

backfill reads every item of the responses, invitations and escalations tables (paged Scans,
eventually consistent: one-off, never per event) and writes their rows as the export function
would, under the lowest version: any change exported since sorts after them. Run it once the
export is deployed; running it again writes the same objects (content-named) or rows the
queries read once. Without --yes it counts and writes nothing.

churn reads a CSV of customer_id,churned_on (yyyy-mm-dd) and writes it to the lake's churn
table under the stack's pseudonym (the raw ids never reach the lake).

Exit status: 0 done; 1 an AWS call failed (running it again is safe); 2 the command could not run.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from tools import lake_sql
from tools.stack import UsageError, add_aws_arguments, aws_session, stack_output, stack_resource

LOCAL_ENDPOINT = "http://127.0.0.1:5000"
BACKFILL_ROWS_PER_OBJECT = 10_000
ENTITY_TABLES = {  # lake entity -> logical id of its DynamoDB table
    "responses": "ResponsesTable",
    "invitations": "InvitationsTable",
    "escalations": "EscalationsTable",
}


def _session(args: argparse.Namespace) -> Any:
    if args.endpoint_url and not args.region:
        args.region = "eu-north-1"  # the local stack's
    session = aws_session(args.profile, args.region)
    if args.endpoint_url:  # the local stack accepts any credentials
        import boto3

        session = boto3.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the local stack accepts any
            region_name=session.region_name,
        )
    return session


def _client(args: argparse.Namespace, service: str) -> Any:
    return _session(args).client(service, endpoint_url=args.endpoint_url)


def _stack_parameters(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


# ---------------------------------------------------------------- query


def default_period(root: Path, tables: Sequence[lake_sql.LakeTable]) -> tuple[str, str]:
    """The Monday-to-Sunday weeks the lake's partitions cover (today's week when empty)."""
    found = lake_sql.span(root, tables)
    first, last = found or (date.today().isoformat(),) * 2
    monday = date.fromisoformat(first) - timedelta(days=date.fromisoformat(first).weekday())
    sunday = date.fromisoformat(last) + timedelta(days=6 - date.fromisoformat(last).weekday())
    return monday.isoformat(), sunday.isoformat()


def query_lake(
    s3: Any,
    bucket: str,
    root: Path,
    first_day: str | None,
    last_day: str | None,
    names: Sequence[str] | None = None,
) -> list[lake_sql.Result]:
    """Copy what the period reads from the bucket into root and run the named queries."""
    found = lake_sql.catalogue()
    tables = list(found.tables.values())
    if first_day is None or last_day is None:
        lake_sql.download(s3, bucket, root, tables, "2000-01-01", "2999-12-31")
        first_day, last_day = default_period(root, tables)
    else:
        lake_sql.download(s3, bucket, root, tables, first_day, last_day)
    queries = [found.queries[name] for name in names] if names else list(found.queries.values())
    # Each table the queries read is loaded into memory once: the queries then take well under
    # the time of parsing the gzip JSON again for each (docs/analytics.md, Measured).
    con = lake_sql.connect(root, lake_sql.tables_read(queries, found.tables))
    return lake_sql.run_all(con, queries, first_day, last_day)


def print_results(results: Sequence[lake_sql.Result], first_day: str, last_day: str) -> None:
    for result in results:
        print(f"\n== {result.query} ({first_day} .. {last_day}): {len(result.rows)} rows")
        print(lake_sql.table_text(result))


def query(args: argparse.Namespace) -> int:
    names = args.query or None
    known = lake_sql.catalogue().queries
    if names and set(names) - set(known):
        raise UsageError(f"unknown query; the named queries are: {', '.join(known)}")
    cloudformation = _client(args, "cloudformation")
    bucket = stack_output(cloudformation, args.stack_name, "LakeBucketName")
    with tempfile.TemporaryDirectory() as scratch:
        results = query_lake(
            _client(args, "s3"), bucket, Path(scratch), args.first_day, args.last_day, names
        )
        first, last = args.first_day, args.last_day
        if first is None or last is None:
            first, last = default_period(Path(scratch), list(lake_sql.catalogue().tables.values()))
    print_results(results, first, last)
    return 0


# ---------------------------------------------------------------- demo (make analytics)


def demo(args: argparse.Namespace) -> int:
    from infra.local.lake_flow import run_flow
    from infra.local.process import running_stack

    print("Starting the local stack (template.yaml on moto) ...", flush=True)
    with running_stack(
        time_scale=7200.0, start_time="2026-11-16T09:00:00+02:00", log_name="analytics.log"
    ) as info:
        print("Surveys through the real flow: purchases, service contacts, answers on the page")
        print("and by SMS, reminders, callback tasks ...", flush=True)
        plans = run_flow(info)
        answered = sum(plan.answers for plan in plans)
        print(f"  {len(plans)} surveys, {answered} answered; the lake is written from the streams")
        args.endpoint_url = info["endpoint_url"]
        args.stack_name = info["stack_name"]
        args.region = info["region"]
        return query(args)


# ---------------------------------------------------------------- backfill


def _context(args: argparse.Namespace, cloudformation: Any) -> Any:
    from zoneinfo import ZoneInfo

    from survey_core.dal.lake import pseudonym_key
    from survey_core.lake.rows import LakeContext

    parameters = _stack_parameters(cloudformation, args.stack_name)
    secret = stack_output(cloudformation, args.stack_name, "LakeKeySecretArn")
    tables = {
        stack_resource(cloudformation, args.stack_name, logical): entity
        for entity, logical in ENTITY_TABLES.items()
    }
    return LakeContext(
        key=pseudonym_key(_client(args, "secretsmanager"), secret),
        zone=ZoneInfo(parameters.get("ReportTimeZone") or "Europe/Helsinki"),
        export_comments=parameters.get("LakeExportComments", "false") == "true",
        entities=tables,
    )


def backfill(args: argparse.Namespace) -> int:
    from survey_core.dal.lake import LakeBucket, scan_pages
    from survey_core.lake.objects import encode
    from survey_core.lake.rows import UnreadableRecord, plain, rows_of_item

    cloudformation = _client(args, "cloudformation")
    context = _context(args, cloudformation)
    bucket = LakeBucket(
        _client(args, "s3"), stack_output(cloudformation, args.stack_name, "LakeBucketName")
    )
    dynamodb = _client(args, "dynamodb")
    totals = {"items": 0, "rows": 0, "objects": 0, "unreadable": 0}
    capacity = 0.0
    for table, entity in context.entities.items():
        pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for page in scan_pages(dynamodb, table, 0, 1):
            capacity += page.consumed
            for item in page.items:
                totals["items"] += 1
                try:
                    rows = rows_of_item(entity, plain(item), context)
                except UnreadableRecord:
                    totals["unreadable"] += 1
                    continue
                for row in rows:
                    pending.setdefault((row.table, row.dt), []).append(row.row)
        for (lake_table, dt), found in sorted(pending.items()):
            for start in range(0, len(found), BACKFILL_ROWS_PER_OBJECT):
                chunk = found[start : start + BACKFILL_ROWS_PER_OBJECT]
                totals["rows"] += len(chunk)
                totals["objects"] += 1
                if args.yes:
                    bucket.put(encode(lake_table, dt, chunk))
    verb = "wrote" if args.yes else "would write (dry run: give --yes)"
    print(
        f"read {totals['items']} items ({capacity:g} read capacity units); {verb} "
        f"{totals['rows']} rows in {totals['objects']} objects; {totals['unreadable']} unreadable"
    )
    return 0


# ---------------------------------------------------------------- churn


def churn_rows(path: Path, key: bytes) -> list[dict[str, str]]:
    """customer_id,churned_on -> {customer: pseudonym, churned_on}; a bad line is refused."""
    from survey_core.lake.rows import pseudonym

    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, line in enumerate(csv.DictReader(handle), start=2):
            customer, day = (line.get("customer_id") or "").strip(), (line.get("churned_on") or "")
            try:
                date.fromisoformat(day.strip())
            except ValueError:
                raise UsageError(f"{path}:{number}: churned_on must be yyyy-mm-dd") from None
            if not customer:
                raise UsageError(f"{path}:{number}: customer_id is empty")
            rows.append({"customer": pseudonym(key, customer), "churned_on": day.strip()})
    return rows


def churn(args: argparse.Namespace) -> int:
    from survey_core.dal.lake import LakeBucket, pseudonym_key
    from survey_core.lake.objects import encode

    cloudformation = _client(args, "cloudformation")
    secret = stack_output(cloudformation, args.stack_name, "LakeKeySecretArn")
    key = pseudonym_key(_client(args, "secretsmanager"), secret)
    rows = churn_rows(args.csv, key)
    bucket = LakeBucket(
        _client(args, "s3"), stack_output(cloudformation, args.stack_name, "LakeBucketName")
    )
    lake_object = encode("churn", "-", rows)
    # The churn table has no partitions: churn/<content hash>.json.gz
    key_name = "churn/" + lake_object.key.rsplit("/", 1)[1]
    bucket.put(type(lake_object)(key_name, lake_object.body, lake_object.rows))
    print(f"wrote {len(rows)} churned customers (pseudonymized) to {key_name}")
    return 0


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stack-name", "--stack", default="feedback", metavar="NAME", help="default feedback"
    )
    add_aws_arguments(common)
    parser = argparse.ArgumentParser(
        prog="python -m tools.lake", description="The data lake (docs/analytics.md)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("query", "run the named queries on DuckDB over a stack's lake"),
        ("demo", "a local stack, surveys through the real flow, then query (make analytics)"),
    ):
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.add_argument("--from", dest="first_day", metavar="YYYY-MM-DD")
        sub.add_argument("--to", dest="last_day", metavar="YYYY-MM-DD")
        sub.add_argument("--query", action="append", metavar="NAME", help="default: all")
    to_backfill = commands.add_parser(
        "backfill", parents=[common], help="export what the tables held before the export"
    )
    to_backfill.add_argument("--yes", action="store_true", help="really write")
    to_churn = commands.add_parser(
        "churn", parents=[common], help="the churn list (customer_id,churned_on), pseudonymized"
    )
    to_churn.add_argument("--csv", type=Path, required=True, metavar="FILE")
    args = parser.parse_args(argv)
    if args.command == "query" and args.endpoint_url is None and args.profile is None:
        args.endpoint_url = LOCAL_ENDPOINT if args.region is None else None
    if bool(getattr(args, "first_day", None)) != bool(getattr(args, "last_day", None)):
        parser.error("give both --from and --to, or neither")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = parse_args(argv)
    commands = {"query": query, "demo": demo, "backfill": backfill, "churn": churn}
    try:
        return commands[args.command](args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else None
        print(f"error: {args.command} stopped ({code or type(error).__name__})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
