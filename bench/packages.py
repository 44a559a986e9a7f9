"""Benchmark: each function's deployment package after `sam build`, and the CoreLayer they all
ship with, counted apart: bytes unzipped and zipped (deflate, in memory, as `sam deploy`
uploads them). Lambda allows 250 MB unzipped for a function and its layers together."""

from __future__ import annotations

import io
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import sam
from bench.summary import Row, cli, human_bytes, print_table, verdict

LIMIT_UNZIPPED = 250 * 1024 * 1024  # function and all its layers, unzipped


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


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
    }


def summary(result: dict[str, Any]) -> list[Row]:
    layer = result["layer"]
    limit = f"<= {human_bytes(result['limit_unzipped_bytes'])} with layer"
    rows = [
        Row(
            "packages",
            "package CoreLayer (every function ships it)",
            f"{human_bytes(layer['unzipped_bytes'])} (zip {human_bytes(layer['zipped_bytes'])})",
            number=layer["unzipped_bytes"],
            unit="bytes",
        )
    ]
    for name, f in result["functions"].items():
        value = (
            f"{human_bytes(f['unzipped_bytes'])} (zip {human_bytes(f['zipped_bytes'])}); "
            f"with layer {human_bytes(f['with_layer_unzipped_bytes'])}"
        )
        total = f["with_layer_unzipped_bytes"]
        rows.append(Row("packages", f"package {name}", value, limit, f["verdict"], total, "bytes"))
    return rows


if __name__ == "__main__":
    sys.exit(cli(run))
