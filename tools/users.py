"""Manage the results view's users: each has a role (a Cognito group) and a scope (custom:scope).

    python -m tools.users add EMAIL --role manager --scope business_area=webshop --stack NAME
    python -m tools.users set-scope EMAIL --scope touchpoint=app [--role agent] --stack NAME
    python -m tools.users list --stack NAME
    python -m tools.users remove EMAIL --stack NAME
        [--user-pool-id ID instead of --stack] [--profile P] [--region R] [--endpoint-url URL]

Roles: cx-admin (sees everything; no scope), manager (all, business_area=<v>, touchpoint=<v>,
agent=<id>), agent (agent=<their agent id>). Role and scope are checked with the results view's
own rules (survey_core/access.py, in the layer) before anything is written.

`add` has Cognito email a temporary password to the user. `--password` (for demo users on the
local stack only) sets a permanent one instead and sends nothing; it is never printed.

Exit status: 0 done, 1 Cognito refused (the user exists, or does not), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.access import (
    SCOPE_ATTRIBUTE,
    AccessRefused,
    Role,
    access,
    parse_role,
    parse_scope,
    role_from_groups,
)

from tools.stack import UsageError, add_aws_arguments, aws_session, stack_output

POOL_OUTPUT = "ResultsUserPoolId"
ROLE_NAMES = [r.value for r in Role]


class Refused(Exception):
    """Cognito refused the operation (exit 1); the message names no user."""


def checked(role_text: str, scope_text: str | None) -> tuple[Role, str | None]:
    """The role and the custom:scope to store (None: none), or UsageError."""
    try:
        role = parse_role(role_text)
        if role is Role.CX_ADMIN and scope_text not in (None, "all"):
            raise AccessRefused("a cx-admin sees everything: give no --scope (or all)")
        access(role, scope_text)
    except AccessRefused as refused:
        raise UsageError(str(refused)) from None
    return role, (None if role is Role.CX_ADMIN else scope_text)


class Users:
    """The admin calls on one pool (a cognito-idp client)."""

    def __init__(self, cognito: Any, pool_id: str) -> None:
        self.cognito = cognito
        self.pool_id = pool_id

    def add(self, email: str, role: Role, scope: str | None, password: str | None) -> None:
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ]
        if scope is not None:
            attributes.append({"Name": SCOPE_ATTRIBUTE, "Value": scope})
        created: dict[str, Any] = {
            "UserPoolId": self.pool_id,
            "Username": email,
            "UserAttributes": attributes,
        }
        if password is None:
            created["DesiredDeliveryMediums"] = ["EMAIL"]
        else:
            created["MessageAction"] = "SUPPRESS"
        self._call("admin_create_user", **created)
        if password is not None:
            self._call(
                "admin_set_user_password",
                UserPoolId=self.pool_id,
                Username=email,
                Password=password,
                Permanent=True,
            )
        self._set_role(email, role)

    def set_scope(self, email: str, role: Role | None, scope: str) -> Role:
        role = role or role_from_groups(self.groups(email))
        _, stored = checked(role.value, scope)
        if stored is None:
            self._call(
                "admin_delete_user_attributes",
                UserPoolId=self.pool_id,
                Username=email,
                UserAttributeNames=[SCOPE_ATTRIBUTE],
            )
        else:
            self._call(
                "admin_update_user_attributes",
                UserPoolId=self.pool_id,
                Username=email,
                UserAttributes=[{"Name": SCOPE_ATTRIBUTE, "Value": stored}],
            )
        self._set_role(email, role)
        return role

    def groups(self, username: str) -> list[str]:
        found = self._call("admin_list_groups_for_user", UserPoolId=self.pool_id, Username=username)
        return [g["GroupName"] for g in found["Groups"]]

    def remove(self, email: str) -> None:
        self._call("admin_delete_user", UserPoolId=self.pool_id, Username=email)

    def listing(self) -> Iterator[dict[str, str]]:
        pages = self.cognito.get_paginator("list_users").paginate(UserPoolId=self.pool_id)
        for page in pages:
            for user in page["Users"]:
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                groups = self.groups(user["Username"])
                try:
                    role = role_from_groups(groups).value
                except AccessRefused:
                    role = "-"
                yield {
                    "email": attributes.get("email", user["Username"]),
                    "role": role,
                    "scope": attributes.get(SCOPE_ATTRIBUTE, "-"),
                    "status": user.get("UserStatus", ""),
                }

    def _set_role(self, email: str, role: Role) -> None:
        """In the role's group only (a user in several would get the highest)."""
        for group in self.groups(email):
            if group in ROLE_NAMES and group != role.value:
                self._call(
                    "admin_remove_user_from_group",
                    UserPoolId=self.pool_id,
                    Username=email,
                    GroupName=group,
                )
        self._call(
            "admin_add_user_to_group", UserPoolId=self.pool_id, Username=email, GroupName=role.value
        )

    def _call(self, operation: str, **arguments: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.cognito, operation)(**arguments)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "UsernameExistsException":
                raise Refused("the user exists already (change it with set-scope)") from None
            if code == "UserNotFoundException":
                raise Refused("no such user") from None
            if code == "InvalidPasswordException":
                raise UsageError("the password does not meet the pool's policy") from None
            # Only the code: a message could quote the address.
            raise Refused(f"Cognito refused {operation} ({code})") from None
        except BotoCoreError as error:
            raise Refused(f"Cognito not reached ({type(error).__name__})") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.users",
        description="Manage the results view's users (Cognito user pool of the stack).",
        epilog="Roles: cx-admin (no scope), manager, agent (scope agent=<id>). Scopes: all, "
        "business_area=<v>, touchpoint=<v>, agent=<id>. Exit status: 0 done, "
        "1 Cognito refused, 2 usage error.",
    )
    where = argparse.ArgumentParser(add_help=False)
    pool = where.add_mutually_exclusive_group()
    pool.add_argument("--stack", metavar="STACK_NAME", help=f"read {POOL_OUTPUT} from its outputs")
    pool.add_argument("--user-pool-id", metavar="ID", help="the pool id itself")
    add_aws_arguments(where)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", parents=[where], help="add a user (emails an invitation)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", required=True, choices=ROLE_NAMES)
    add.add_argument("--scope", metavar="SCOPE", help="required for manager and agent")
    add.add_argument("--password", help="local demo users only: a permanent password, and no email")
    scope = commands.add_parser("set-scope", parents=[where], help="change a user's scope")
    scope.add_argument("email", metavar="EMAIL")
    scope.add_argument("--scope", required=True, metavar="SCOPE")
    scope.add_argument("--role", choices=ROLE_NAMES, help="change the role too")
    commands.add_parser("list", parents=[where], help="every user with role, scope, status")
    remove = commands.add_parser("remove", parents=[where], help="delete a user")
    remove.add_argument("email", metavar="EMAIL")
    return parser.parse_args(argv)


def _users(args: argparse.Namespace) -> Users:
    if not (args.stack or args.user_pool_id):
        raise UsageError("give --stack STACK_NAME or --user-pool-id ID")
    session = aws_session(args.profile, args.region)
    pool_id = args.user_pool_id or stack_output(
        session.client("cloudformation", endpoint_url=args.endpoint_url), args.stack, POOL_OUTPUT
    )
    return Users(session.client("cognito-idp", endpoint_url=args.endpoint_url), pool_id)


def run(args: argparse.Namespace) -> None:
    if args.command in ("add", "set-scope") and "@" not in args.email:
        raise UsageError("EMAIL is the user's email address")
    if args.command == "add":
        role, scope = checked(args.role, args.scope)
        _users(args).add(args.email, role, scope, args.password)
        sent = "a permanent password set" if args.password else "Cognito emails an invitation"
        print(f"user added as {role.value} ({sent})", file=sys.stderr)
    elif args.command == "set-scope":
        if args.role:  # the pair, or the scope's syntax, before any call
            checked(args.role, args.scope)
        else:
            try:
                parse_scope(args.scope)
            except AccessRefused as refused:
                raise UsageError(str(refused)) from None
        role = _users(args).set_scope(
            args.email, parse_role(args.role) if args.role else None, args.scope
        )
        print(f"scope set ({role.value})", file=sys.stderr)
    elif args.command == "list":
        for user in _users(args).listing():
            print("\t".join([user["email"], user["role"], user["scope"], user["status"]]))
    else:
        _users(args).remove(args.email)
        print("user removed", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (Refused, AccessRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
