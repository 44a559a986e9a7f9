"""Access and erasure requests for one customer, against a deployed stack (docs/data.md).

    python -m tools.customer_data export --customer-id C [--out FILE.json]
    python -m tools.customer_data erase --customer-id C [--yes]
        [--stack-name NAME] [--region R] [--profile P] [--endpoint-url URL]

export writes everything stored about the customer as JSON (to FILE, created readable by its
owner only, or to standard output): the customer, every invitation, response and escalation.
The survey link tokens and other secrets are left out; the document's "omitted" field names
them. erase without --yes prints how many items it would delete per table and deletes nothing;
with --yes it deletes them and prints the counts. It never prints the data itself. The
aggregate counters (anonymous) and the suppression list (hashed addresses, so an opt-out keeps
holding) stay. Running it again is safe: a second run finds nothing to erase.

Table names: --stack-name reads the physical names of CustomersTable, InvitationsTable,
ResponsesTable and EscalationsTable from CloudFormation; without it, the environment variables
the functions use: CUSTOMERS_TABLE, INVITATIONS_TABLE, RESPONSES_TABLE, ESCALATIONS_TABLE.

Exit status: 0 done (erase: also when there is nothing to erase); 1 export: nothing stored for
the customer, or an AWS call failed (re-running is safe); 2 the command could not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.dal.customer_data import PersonalTables

from tools.stack import UsageError, add_aws_arguments, aws_session, stack_resource

# PersonalTables field -> (logical id in template.yaml, environment variable of the functions)
TABLES = {
    "customers": ("CustomersTable", "CUSTOMERS_TABLE"),
    "invitations": ("InvitationsTable", "INVITATIONS_TABLE"),
    "responses": ("ResponsesTable", "RESPONSES_TABLE"),
    "escalations": ("EscalationsTable", "ESCALATIONS_TABLE"),
}
KEPT = (
    "Kept: the aggregate counters (anonymous counts) and the suppression list (hashed "
    "addresses, so an opt-out keeps holding)."
)


def stack_tables(cloudformation: Any, stack_name: str) -> PersonalTables:
    """The physical table names of a deployed stack."""
    return PersonalTables(
        **{
            field: stack_resource(cloudformation, stack_name, logical_id)
            for field, (logical_id, _) in TABLES.items()
        }
    )


def environment_tables(environ: Mapping[str, str]) -> PersonalTables:
    missing = [variable for _, variable in TABLES.values() if not environ.get(variable, "").strip()]
    if missing:
        raise UsageError(f"give --stack-name NAME, or set {', '.join(missing)}")
    return PersonalTables(
        **{field: environ[variable].strip() for field, (_, variable) in TABLES.items()}
    )


def connect(args: argparse.Namespace, environ: Mapping[str, str]) -> PersonalTables:
    """Find the tables and point the models at them; the names found."""
    from survey_core.dal.customer_data import bind_personal_tables

    session = aws_session(args.profile, args.region)
    if args.stack_name:
        cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
        tables = stack_tables(cloudformation, args.stack_name)
    else:
        tables = environment_tables(environ)
    if args.profile:
        # The models' client is made by the binding below from boto3's default session
        # (dal/models.shared_connection): that session, made anew here, uses the profile; a
        # session PynamoDB makes itself reads it from the environment.
        import boto3

        boto3.setup_default_session(profile_name=args.profile, region_name=session.region_name)
        os.environ["AWS_PROFILE"] = args.profile
    bind_personal_tables(tables, session.region_name, args.endpoint_url)
    return tables


def _counts(counts: Mapping[str, int], tables: PersonalTables) -> str:
    return "\n".join(
        f"  {entity:<12} {count:>6}  ({getattr(tables, entity)})"
        for entity, count in counts.items()
    )


def export(args: argparse.Namespace, tables: PersonalTables) -> int:
    from survey_core.dal.customer_data import customer_records

    records = customer_records(args.customer_id)
    if not records.found:
        print("error: nothing is stored for this customer id", file=sys.stderr)
        return 1
    document = records.export(exported_at=datetime.now(UTC))
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:  # personal data: readable by its owner only
            handle = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as error:
            raise UsageError(f"{args.out}: cannot be written ({error.strerror})") from None
    where = "standard output" if args.out is None else str(args.out)
    print(f"exported to {where}:\n{_counts(records.counts(), tables)}", file=sys.stderr)
    return 0


def erase(args: argparse.Namespace, tables: PersonalTables) -> int:
    from survey_core.dal.customer_data import customer_records, erase_customer

    if not args.yes:
        records = customer_records(args.customer_id)
        if not records.found:
            print("nothing to erase: nothing is stored for this customer id")
            return 0
        print("dry run, nothing deleted; with --yes this deletes:")
        print(_counts(records.counts(), tables))
        print(KEPT)
        return 0
    erased = erase_customer(args.customer_id)
    if not any(erased.values()):
        print("nothing to erase: nothing is stored for this customer id")
        return 0
    print("erased:")
    print(_counts(erased, tables))
    print(KEPT)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--customer-id", required=True, metavar="C", help="the customer's id")
    common.add_argument(
        "--stack-name",
        "--stack",
        metavar="NAME",
        help="read the table names from this stack (default: the environment variables "
        + ", ".join(variable for _, variable in TABLES.values())
        + ")",
    )
    add_aws_arguments(common)
    parser = argparse.ArgumentParser(
        prog="python -m tools.customer_data",
        description="Access and erasure requests for one customer (docs/data.md).",
        epilog="Exit status: 0 done, 1 export found nothing or an AWS call failed, 2 usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    to_export = commands.add_parser(
        "export",
        parents=[common],
        help="write everything stored about the customer as JSON",
        description="Write everything stored about the customer as JSON (link tokens and "
        "other secrets left out; the document's 'omitted' field names them).",
    )
    to_export.add_argument(
        "--out", type=Path, metavar="FILE", help="write here (mode 0600), not to standard output"
    )
    to_erase = commands.add_parser(
        "erase",
        parents=[common],
        help="delete everything stored about the customer",
        description="Delete the customer, their invitations, responses and escalations. "
        "Without --yes: print the counts it would delete and delete nothing. Aggregate "
        "counters and suppressions stay.",
    )
    to_erase.add_argument("--yes", action="store_true", help="really delete")
    args = parser.parse_args(argv)
    args.customer_id = args.customer_id.strip()
    if not args.customer_id:
        parser.error("--customer-id must not be empty")
    return args


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    args = parse_args(argv)
    try:
        tables = connect(args, os.environ if environ is None else environ)
        return export(args, tables) if args.command == "export" else erase(args, tables)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, PynamoDBException) as error:
        # Only the error code: a message could quote a key or an item.
        code = getattr(error, "cause_response_code", None)
        if isinstance(error, ClientError):
            code = error.response["Error"]["Code"]
        print(
            f"error: {args.command} stopped ({code or type(error).__name__}); "
            "running it again is safe",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
