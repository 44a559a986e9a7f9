"""Lake rows <-> S3 objects: gzip-compressed JSON lines, one object per table and partition of
a batch, named after its own content.

    <table>/dt=<yyyy-mm-dd>/<sha256 of the content, 32 hex>.json.gz

A batch delivered again writes the same bytes under the same name (gzip without a timestamp,
keys sorted): the object is replaced by itself, not added next to itself. Athena and DuckDB
read the files as JSON lines and decompress them by their .gz ending.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from msgspec import Struct

from .rows import LakeRow

SUFFIX = ".json.gz"


class LakeObject(Struct, frozen=True):
    key: str
    body: bytes  # gzip
    rows: int


def prefix(table: str, dt: str) -> str:
    return f"{table}/dt={dt}/"


def lines(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(
        json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        for row in rows
    ).encode("utf-8")


def compress(text: bytes) -> bytes:
    return gzip.compress(text, compresslevel=6, mtime=0)


def encode(table: str, dt: str, rows: Sequence[dict[str, Any]]) -> LakeObject:
    text = lines(rows)
    name = hashlib.sha256(text).hexdigest()[:32]
    return LakeObject(f"{prefix(table, dt)}{name}{SUFFIX}", compress(text), len(rows))


def decode(body: bytes) -> list[dict[str, Any]]:
    text = gzip.decompress(body).decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def objects_of(rows: Iterable[LakeRow]) -> list[LakeObject]:
    """One object per (table, partition), rows in the order they came (stream order)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row.table, row.dt), []).append(row.row)
    return [encode(table, dt, found) for (table, dt), found in grouped.items()]
