"""The suppression list on DynamoDB (domain/suppressions.py): one item per address key, so the
table holds no address."""

from __future__ import annotations

from collections.abc import Collection

from ..clock import iso
from ..domain.suppressions import Suppression
from . import models


class SuppressionTable:
    def add(self, suppression: Suppression) -> None:
        models.Suppression(
            suppression.key,
            channel=suppression.channel,
            reason=suppression.reason,
            source=suppression.source,
            at=iso(suppression.at),
            invitation_id=suppression.invitation_id,
        ).save()

    def reasons(self, keys: Collection[str]) -> dict[str, str]:
        # One consistent BatchGetItem (PynamoDB splits it at 100 keys).
        return {
            item.address_key: item.reason
            for item in models.Suppression.batch_get(list(keys), consistent_read=True)
        }
