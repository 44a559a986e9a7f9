"""Who may see what in the results view: a role from the user's Cognito groups and a scope from
their `custom:scope` attribute. Pure, standard library only: the token verifier (identity.py)
and the user command (tools/users.py) both decide with `access()`, so a scope the command
accepts is exactly one a token is accepted with.

Scopes, as written in `custom:scope`:

    all                      everything
    business_area=<value>    the feedback of one business area
    touchpoint=<value>       of one touchpoint
    agent=<agent id>         on one agent's contacts

A value is a segment value of the events (1 to 128 characters, as in common.schema.json's
segmentValue), without control characters or surrounding spaces. A cx-admin sees everything
(whatever the attribute says); a manager needs a scope; an agent's scope is their own agent id.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from msgspec import Struct

MAX_VALUE = 128  # common.schema.json's segmentValue
SCOPE_ATTRIBUTE = "custom:scope"


class AccessRefused(Exception):
    """The user may not use the results view as they are set up (the message says why, without
    quoting any value)."""


class Role(enum.Enum):
    """Cognito group names, highest first."""

    CX_ADMIN = "cx-admin"
    MANAGER = "manager"
    AGENT = "agent"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class ScopeKind(enum.Enum):
    ALL = "all"
    BUSINESS_AREA = "business_area"
    TOUCHPOINT = "touchpoint"
    AGENT = "agent"


class Scope(Struct, frozen=True):
    kind: ScopeKind
    value: str | None = None  # None only for ALL

    def __str__(self) -> str:
        return self.kind.value if self.value is None else f"{self.kind.value}={self.value}"


ALL = Scope(ScopeKind.ALL)


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccessRefused(f"unknown role (one of {names})") from None


def role_from_groups(groups: Iterable[str]) -> Role:
    """The highest role among the groups (others, such as a federated provider's, ignored)."""
    roles = [Role(g) for g in groups if g in {r.value for r in Role}]
    if not roles:
        raise AccessRefused("the user is in none of the groups cx-admin, manager, agent")
    return min(roles, key=lambda role: role.rank)


def parse_scope(text: str) -> Scope:
    if text == ScopeKind.ALL.value:
        return ALL
    name, equals, value = text.partition("=")
    kinds = {k.value: k for k in ScopeKind if k is not ScopeKind.ALL}
    if not equals or name not in kinds:
        raise AccessRefused(
            "a scope is all, business_area=<value>, touchpoint=<value> or agent=<agent id>"
        )
    if not value or len(value) > MAX_VALUE:
        raise AccessRefused(f"a scope's value has 1 to {MAX_VALUE} characters")
    if value != value.strip() or not value.isprintable():
        raise AccessRefused("a scope's value has no surrounding spaces or control characters")
    return Scope(kinds[name], value)


def access(role: Role, scope_text: str | None) -> Scope:
    """The scope a user of this role has with this `custom:scope` attribute (None: not set)."""
    if role is Role.CX_ADMIN:
        return ALL
    if scope_text is None:
        raise AccessRefused(f"a user of role {role.value} needs a scope")
    scope = parse_scope(scope_text)
    if role is Role.AGENT and scope.kind is not ScopeKind.AGENT:
        raise AccessRefused("an agent's scope is agent=<their agent id>")
    return scope
