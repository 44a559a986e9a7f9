"""Benchmark: deployment package size of each function after `sam build`.

Each function's directory in .aws-sam/build (its code and whatever its build installed) and
the CoreLayer every function ships with, counted apart: bytes unzipped and zipped (deflate, in
memory, as `sam deploy` uploads them). Lambda's limit is 250 MB unzipped for a function and its
layers together; a zip uploaded directly may be at most 50 MB.

    make build && .venv/bin/python -m bench.packages [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import sam
from bench.summary import Row, format_table, human_bytes, verdict, write_json

LIMIT_UNZIPPED = 250 * 1024 * 1024  # function and all its layers, unzipped
LIMIT_DIRECT_ZIP = 50 * 1024 * 1024  # a zip uploaded with the API (sam deploy goes through S3)
LARGEST = 8


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def unzipped_size(root: Path) -> tuple[int, int]:
    """(bytes, files)"""
    files = _files(root)
    return sum(p.stat().st_size for p in files), len(files)


def zipped_size(root: Path) -> int:
    """Bytes of a deflate zip of the directory, made in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(root):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.tell()


def largest_entries(root: Path, count: int = LARGEST) -> list[dict[str, Any]]:
    """The biggest top-level entries (packages) of a directory, by unzipped bytes."""
    sizes: Counter[str] = Counter()
    for path in _files(root):
        sizes[path.relative_to(root).parts[0]] += path.stat().st_size
    return [{"entry": name, "bytes": size} for name, size in sizes.most_common(count)]


def measure(root: Path) -> dict[str, Any]:
    size, files = unzipped_size(root)
    return {"unzipped_bytes": size, "zipped_bytes": zipped_size(root), "files": files}


def run(build_dir: Path = sam.BUILD_DIR) -> dict[str, Any]:
    functions = sam.functions()
    layer_dir = build_dir / sam.LAYER
    layer = {**measure(layer_dir), "largest": largest_entries(layer_dir / "python")}
    result: dict[str, Any] = {
        "build_dir": str(build_dir),
        "limit_unzipped_bytes": LIMIT_UNZIPPED,
        "limit_direct_zip_bytes": LIMIT_DIRECT_ZIP,
        "layer": layer,
        "functions": {},
    }
    for function in functions:
        figures = measure(build_dir / function.logical_id)
        total = figures["unzipped_bytes"] + layer["unzipped_bytes"]
        result["functions"][function.logical_id] = {
            **figures,
            "with_layer_unzipped_bytes": total,
            "verdict": verdict(total, LIMIT_UNZIPPED),
        }
    differences = sam.build_differences(functions, sam.layer_content_uri(), build_dir)
    result["build_matches_sources"] = not differences
    result["build_differences"] = differences[:20]
    print_report(result)
    return result


def print_report(result: dict[str, Any]) -> None:
    layer = result["layer"]
    print(f"\ndeployment packages after sam build ({result['build_dir']})\n")
    rows = [
        [
            name,
            human_bytes(f["unzipped_bytes"]),
            human_bytes(f["zipped_bytes"]),
            str(f["files"]),
            human_bytes(f["with_layer_unzipped_bytes"]),
            f["verdict"],
        ]
        for name, f in result["functions"].items()
    ]
    rows.append(
        [
            sam.LAYER,
            human_bytes(layer["unzipped_bytes"]),
            human_bytes(layer["zipped_bytes"]),
            str(layer["files"]),
            "",
            "",
        ]
    )
    headers = ("package", "unzipped", "zipped", "files", "with layer, unzipped", "verdict")
    print(format_table(headers, rows, align="lrrrrl"))
    print(
        f"\nlimit: function + layers <= {human_bytes(result['limit_unzipped_bytes'])} unzipped; "
        f"a directly uploaded zip <= {human_bytes(result['limit_direct_zip_bytes'])}"
    )
    largest = ", ".join(f"{e['entry']} {human_bytes(e['bytes'])}" for e in layer["largest"])
    print(f"largest in the layer: {largest}")
    if not result["build_matches_sources"]:
        print(
            f"WARNING: the build differs from the sources in {len(result['build_differences'])}"
            "+ files: run make build"
        )


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
        rows.append(
            Row(
                "packages",
                f"package {name}",
                value,
                limit,
                f["verdict"],
                number=f["with_layer_unzipped_bytes"],
                unit="bytes",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--build-dir", type=Path, default=sam.BUILD_DIR)
    args = parser.parse_args(argv)
    build_dir = args.build_dir.resolve()
    if not (build_dir / sam.LAYER).is_dir():
        print(f"no sam build in {build_dir}: run make build first", file=sys.stderr)
        return 2
    result = run(build_dir)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
