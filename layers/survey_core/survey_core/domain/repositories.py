"""The repositories a use case may be given, one per aggregate (see domain/__init__.py)."""

from __future__ import annotations

from msgspec import Struct

from .counters import Counters
from .customers import Customers
from .escalations import Escalations
from .invitations import Invitations
from .responses import Responses
from .suppressions import Suppressions


class Repositories(Struct, frozen=True):
    counters: Counters
    customers: Customers
    escalations: Escalations
    invitations: Invitations
    responses: Responses
    suppressions: Suppressions
