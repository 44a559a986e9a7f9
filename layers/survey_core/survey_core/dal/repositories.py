"""Every repository on DynamoDB, bound to one stack's tables: what a handler gives its use
cases."""

from __future__ import annotations

from ..config import Tables
from ..domain.repositories import Repositories
from .counters import CounterTable
from .customers import CustomerTable
from .escalations import EscalationTable
from .invitations import InvitationTable
from .models import bind_tables
from .responses import ResponseTable
from .suppressions import SuppressionTable


def dynamodb_repositories(tables: Tables, region: str) -> Repositories:
    """Binds the models to the stack's tables (names come from the template) first."""
    bind_tables(tables, region)
    return Repositories(
        counters=CounterTable(),
        customers=CustomerTable(),
        escalations=EscalationTable(),
        invitations=InvitationTable(),
        responses=ResponseTable(),
        suppressions=SuppressionTable(),
    )
