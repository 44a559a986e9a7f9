"""The data lake's AWS calls: its S3 bucket, the pseudonym key in Secrets Manager, and the
paged reads of the tables for the backfill (an operator's one-off command, never per event).

Nothing here logs: keys and bodies may hold pseudonyms and comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError
from msgspec import Struct

from ..lake.objects import LakeObject, compress, decode, lines
from .secrets import stack_key

REWRITE_ATTEMPTS = 5  # another rewrite of the same object got in first: read it again
# S3's answers to a conditional write when the object changed since it was read.
CHANGED_MEANWHILE = ("PreconditionFailed", "ConditionalRequestConflict")


class LakeBucket:
    """The lake's S3 bucket. Writes replace an object by itself (content-named keys); an
    erasure's rewrite is conditional on the object being as read (If-Match), so two rewrites
    of one object never lose each other's changes."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def put(self, lake_object: LakeObject) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=lake_object.key,
            Body=lake_object.body,
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        token: str | None = None
        while True:
            page = self._s3.list_objects_v2(
                Bucket=self.bucket, Prefix=prefix, **({"ContinuationToken": token} if token else {})
            )
            found += [str(entry["Key"]) for entry in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return found
            token = page["NextContinuationToken"]

    def read(self, key: str) -> tuple[list[dict[str, Any]], str]:
        """An object's rows and its ETag."""
        got = self._s3.get_object(Bucket=self.bucket, Key=key)
        return decode(got["Body"].read()), str(got["ETag"])

    def rewrite(
        self, key: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> bool:
        """Apply change to the object's rows and write it back if that changed anything, on
        the condition that nobody rewrote it since it was read. True when it was rewritten."""
        for _ in range(REWRITE_ATTEMPTS):
            rows, etag = self.read(key)
            changed = change(rows)
            if changed == rows:
                return False
            try:
                self._s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=compress(lines(changed)),
                    ContentType="application/x-ndjson",
                    ContentEncoding="gzip",
                    IfMatch=etag,
                )
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] not in (
                    "PreconditionFailed",
                    "ConditionalRequestConflict",
                ):
                    raise
        raise RuntimeError("a lake object kept changing while it was being rewritten")

    def rewrite_all(
        self, prefix: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> int:
        """Rewrite every object under a prefix (a partition) that change changes; how many."""
        # One after another: erasures are rare, and a day holds at most a batch a minute.
        return sum(self.rewrite(key, change) for key in self.keys(prefix))


def pseudonym_key(secrets: Any, secret_arn: str) -> bytes:
    """The stack's pseudonym key (made by CloudFormation with GenerateSecretString). It must
    never change: every pseudonym in the lake, and every table analysts keyed with it, would
    stop joining."""
    return stack_key(secrets, secret_arn)


class ScannedPage(Struct, frozen=True):
    items: list[dict[str, Any]]  # DynamoDB JSON, as a stream record's NewImage
    consumed: float  # read capacity units


def scan_pages(dynamodb: Any, table: str, segment: int, segments: int) -> Iterator[ScannedPage]:
    """Every item of one segment of a table, a page at a time (the backfill; eventually
    consistent reads: half the cost, and every change after the read is exported anyway)."""
    key: dict[str, Any] | None = None
    while True:
        page = dynamodb.scan(
            TableName=table,
            Segment=segment,
            TotalSegments=segments,
            ReturnConsumedCapacity="TOTAL",
            **({"ExclusiveStartKey": key} if key else {}),
        )
        consumed = float((page.get("ConsumedCapacity") or {}).get("CapacityUnits", 0))
        yield ScannedPage(list(page.get("Items", [])), consumed)
        key = page.get("LastEvaluatedKey")
        if not key:
            return
