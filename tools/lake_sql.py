"""The data lake's named queries on DuckDB: the same SQL as Athena's, from the same template.

template.yaml holds the lake's one copy of everything a query needs: the Glue tables (their
columns, types and S3 prefixes) and the Athena named queries (Athena's dialect: Trino). Here
each Glue table a query reads becomes a DuckDB table loaded once from the objects' files (gzip
JSON lines under <table>/dt=<day>/, the day as the `dt` column, as partition projection gives
it; materialize=False: a view over the files, read again by each query), and each named query
is translated from Trino to DuckDB by sqlglot when it runs. Nothing is written twice by hand:
a change to a query in the template is what both engines run.

Used by `python -m tools.lake query` (`make analytics`), bench/analytics.py and the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
PARTITION = "dt"
PARAMETERS = 2  # every named query takes the period: its first and its last day
LOOKBACK_DAYS = 15  # the widest any query reads before the period (messages: two weeks)


@dataclass(frozen=True)
class LakeTable:
    name: str
    prefix: str  # "responses/": where its objects are in the lake bucket
    columns: tuple[tuple[str, str], ...]  # (name, Hive type as in Glue)
    partitioned: bool  # under <prefix>dt=<yyyy-mm-dd>/


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str  # Athena's dialect (Trino), as in the template


@dataclass(frozen=True)
class Catalogue:
    tables: dict[str, LakeTable]
    queries: dict[str, NamedQuery]


def _text(node: Any) -> str:
    """A template string: plain, or the text of an Fn::Sub."""
    if isinstance(node, dict) and "Fn::Sub" in node:
        sub = node["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return str(node)


def catalogue(template_path: Path = TEMPLATE_PATH) -> Catalogue:
    """The Glue tables and the Athena named queries of template.yaml."""
    resources = yaml_parse(template_path.read_text(encoding="utf-8"))["Resources"]
    tables: dict[str, LakeTable] = {}
    queries: dict[str, NamedQuery] = {}
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Glue::Table":
            table = props["TableInput"]
            storage = table["StorageDescriptor"]
            # s3://${LakeBucket}/responses/ -> responses/
            prefix = re.sub(r"^s3://[^/]+/", "", _text(storage["Location"]))
            keys = [k["Name"] for k in table.get("PartitionKeys", [])]
            if keys not in ([], [PARTITION]):
                raise ValueError(f"{table['Name']}: only a {PARTITION} partition is read here")
            tables[table["Name"]] = LakeTable(
                name=table["Name"],
                prefix=prefix,
                columns=tuple((c["Name"], c["Type"]) for c in storage["Columns"]),
                partitioned=bool(keys),
            )
        elif resource["Type"] == "AWS::Athena::NamedQuery":
            queries[props["Name"]] = NamedQuery(
                props["Name"], props.get("Description", ""), props["QueryString"]
            )
    return Catalogue(tables, queries)


def duckdb_type(hive_type: str) -> str:
    """A Glue (Hive) column type in DuckDB's words: map<string,int> -> MAP(TEXT, INT)."""
    from sqlglot import exp

    return exp.DataType.build(hive_type, dialect="hive").sql("duckdb")


def to_duckdb(trino_sql: str) -> str:
    """A named query translated from Athena's dialect (Trino) to DuckDB's."""
    import sqlglot

    [translated] = sqlglot.transpile(trino_sql, read="trino", write="duckdb")
    return str(translated)


def placeholders(sql: str) -> int:
    """How many ? parameters a query takes (outside strings and comments)."""
    import sqlglot
    from sqlglot import exp

    return len(list(sqlglot.parse_one(sql, read="trino").find_all(exp.Placeholder)))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns_literal(table: LakeTable) -> str:
    pairs = ", ".join(f"{_quoted(name)}: {_quoted(duckdb_type(t))}" for name, t in table.columns)
    return "{" + pairs + "}"


def _has_files(root: Path, table: LakeTable) -> bool:
    return any((root / table.prefix).rglob("*.json.gz"))


def _source(root: Path, table: LakeTable) -> str:
    pattern = root / table.prefix / ("*/*.json.gz" if table.partitioned else "*.json.gz")
    options = f"format = 'newline_delimited', columns = {_columns_literal(table)}"
    if table.partitioned:
        options += f", hive_partitioning = true, hive_types = {{'{PARTITION}': 'VARCHAR'}}"
    return f"read_json({_quoted(str(pattern))}, {options})"


def _empty(table: LakeTable) -> str:
    columns = [f'"{name}" {duckdb_type(t)}' for name, t in table.columns]
    if table.partitioned:
        columns.append(f'"{PARTITION}" VARCHAR')
    return f"({', '.join(columns)})"


# DuckDB's rewrite of `row_number() ... = 1` into arg_max over a struct of the row is slow when
# the order is a string (the escalations' version): callback_sla_by_team took 1.6 s of CPU
# instead of 0.6 at 1,000,000 answers; scores_by_week_and_segment (an integer revision) gains
# 0.4 s from it. Measured with bench/analytics.py (docs/analytics.md).
SETTINGS = ("SET disabled_optimizers = 'top_n_window_elimination'",)


def connect(root: Path, tables: Mapping[str, LakeTable], *, materialize: bool = True) -> Any:
    """A DuckDB database where each lake table is a table loaded once from its files under root
    (the queries then read memory, not gzip JSON: what `tools.lake query` does), or with
    materialize=False a view over the files (each query reads and parses them again)."""
    import duckdb

    con = duckdb.connect()
    for setting in SETTINGS:
        con.execute(setting)
    # The names, paths and types come from template.yaml and the caller's directory, never from
    # a query's user: nothing here is input to quote against.
    for table in tables.values():
        if not _has_files(root, table):
            con.execute(f'CREATE TABLE "{table.name}" {_empty(table)}')
            continue
        kind = "TABLE" if materialize else "VIEW"
        statement = f'CREATE {kind} "{table.name}" AS SELECT * FROM {_source(root, table)}'  # noqa: S608
        con.execute(statement)
    return con


def tables_read(
    queries: Iterable[NamedQuery], tables: Mapping[str, LakeTable]
) -> dict[str, LakeTable]:
    """The lake tables the queries read (only those need loading)."""
    import sqlglot
    from sqlglot import exp

    names = {
        table.name
        for query in queries
        for table in sqlglot.parse_one(query.sql, read="trino").find_all(exp.Table)
    }
    return {name: table for name, table in tables.items() if name in names}


@dataclass(frozen=True)
class Result:
    query: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run(con: Any, query: NamedQuery, first_day: str, last_day: str) -> Result:
    """Run one named query for a period (yyyy-mm-dd, both days included)."""
    sql = to_duckdb(query.sql)
    if placeholders(query.sql) != PARAMETERS:
        raise ValueError(f"{query.name}: takes {placeholders(query.sql)} parameters, not 2")
    cursor = con.execute(sql, [first_day, last_day])
    return Result(query.name, [d[0] for d in cursor.description], cursor.fetchall())


def run_all(con: Any, queries: Iterable[NamedQuery], first_day: str, last_day: str) -> list[Result]:
    return [run(con, query, first_day, last_day) for query in queries]


# ---------------------------------------------------------------- the lake's objects


def wanted(key: str, tables: Iterable[LakeTable], first_day: str, last_day: str) -> bool:
    """A lake object some query of the period reads: a partition from LOOKBACK_DAYS before the
    period to its end, or an object of a table without partitions."""
    earliest = (date.fromisoformat(first_day) - timedelta(days=LOOKBACK_DAYS)).isoformat()
    for table in tables:
        if not key.startswith(table.prefix) or not key.endswith(".json.gz"):
            continue
        if not table.partitioned:
            return "/" not in key[len(table.prefix) :]
        match = re.match(rf"{PARTITION}=(\d{{4}}-\d{{2}}-\d{{2}})/", key[len(table.prefix) :])
        return match is not None and earliest <= match.group(1) <= last_day
    return False


def download(
    s3: Any, bucket: str, root: Path, tables: Sequence[LakeTable], first_day: str, last_day: str
) -> int:
    """Copy the lake objects the period's queries read into root (same keys); how many."""
    copied = 0
    paginator = s3.get_paginator("list_objects_v2")
    for table in tables:
        for page in paginator.paginate(Bucket=bucket, Prefix=table.prefix):
            for entry in page.get("Contents", []):
                key = str(entry["Key"])
                if wanted(key, tables, first_day, last_day):
                    target = root / key
                    target.parent.mkdir(parents=True, exist_ok=True)
                    s3.download_file(bucket, key, str(target))
                    copied += 1
    return copied


def span(root: Path, tables: Iterable[LakeTable]) -> tuple[str, str] | None:
    """The first and last day any partition under root holds (None: no partition)."""
    days = sorted(
        path.name.split("=", 1)[1]
        for table in tables
        if table.partitioned
        for path in (root / table.prefix).glob(f"{PARTITION}=*")
    )
    return (days[0], days[-1]) if days else None


def table_text(result: Result, limit: int = 50) -> str:
    """A result as a plain text table (the first `limit` rows)."""
    shown = [[_cell(v) for v in row] for row in result.rows[:limit]]
    widths = [max([len(c), *(len(r[i]) for r in shown)]) for i, c in enumerate(result.columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in shown]
    if len(result.rows) > limit:
        lines.append(f"... {len(result.rows) - limit} more rows")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
