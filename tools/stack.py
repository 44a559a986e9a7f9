"""What the operator tools share: an AWS session from --profile / --region, and a deployed
stack's outputs and physical resource names (also the local stack's, with --endpoint-url)."""

from __future__ import annotations

import argparse
from typing import Any


class UsageError(Exception):
    """The command cannot run at all (exit 2); the message says what to give instead."""


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="P", help="AWS profile")
    parser.add_argument("--region", metavar="R", help="AWS region")
    parser.add_argument(
        "--endpoint-url", metavar="URL", help="e.g. http://127.0.0.1:5000 for the local stack"
    )


def aws_session(profile: str | None, region: str | None) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as error:  # an unknown profile
        raise UsageError(str(error)) from None
    if not session.region_name:
        raise UsageError("give --region R (or set AWS_REGION)")
    return session


def stack_output(cloudformation: Any, stack_name: str, key: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"cannot read stack {stack_name}: {error}") from None
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise UsageError(f"stack {stack_name} has no {key} output")


def stack_resource(cloudformation: Any, stack_name: str, logical_id: str) -> str:
    """A resource's physical id, asked by logical id: a SAM stack has more resources than one
    unfiltered DescribeStackResources returns."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = cloudformation.describe_stack_resources(
            StackName=stack_name, LogicalResourceId=logical_id
        )["StackResources"]
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"cannot read {logical_id} of stack {stack_name}: {error}") from None
    if not found or not found[0].get("PhysicalResourceId"):
        raise UsageError(f"stack {stack_name} has no {logical_id}")
    return str(found[0]["PhysicalResourceId"])
