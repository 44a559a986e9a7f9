"""Benchmark: cold start, as the import time of each function's handler module next to
`import boto3` alone (the floor of any function that calls AWS).

Every import runs in a fresh interpreter and is timed inside it with time.perf_counter (the
interpreter's own start-up is not counted); the figure is the median of N processes, the
modules interleaved round by round so machine noise hits them alike. The environment is a
Lambda one: the function's variables from template.yaml (Globals and its own, with example
values), the variables the Lambda runtime sets (LAMBDA_TASK_ROOT and so on: Powertools' tracer
is on, as with Tracing: Active), a region and fake credentials; the imports use no network.

Where the code comes from, best first:

- built: python3.13 (the Lambda runtime) and `sam build`'s artifacts, PYTHONPATH
  .aws-sam/build/<Function> then .aws-sam/build/CoreLayer/python, as Lambda runs them. boto3
  comes from a separate directory, as the runtime provides it (with the layer's botocore pin);
  packages of the layer built for another machine (arm64 extension modules on an x86_64 host)
  are replaced by the same versions built for this one, installed once (CACHE_DIR: in the
  venv);
- sources: the venv's python with functions/<dir> and layers/survey_core on the path (when
  python3.13 or .aws-sam/build is missing).

Two modes, each with its own floor:

- cached: bytecode compiled once and reused (a .pyc cache in CACHE_DIR), the import alone;
- as shipped (built only): nothing written, so modules without a .pyc in the artifacts are
  compiled on every import, as on Lambda, whose /var/task and /opt are read-only.

Target: every function at most 1.25 times the floor. For a function over it, the largest
imports by self time (medians of 3 runs of python -X importtime) are listed.

    .venv/bin/python -m bench.cold_start [--repeats 15] [--breakdown over|all|none] [--json PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import sam
from bench.summary import (
    OK,
    OVER,
    Row,
    format_table,
    human_ms,
    ratio,
    ratio_text,
    stats_ms,
    verdict,
    write_json,
)

TARGET_RATIO = 1.25
FLOOR_MODULE = "boto3"
FLOOR = "floor"
REPEATS = 15
LAMBDA_PYTHON = "3.13"
# Host builds, the runtime's boto3 and the bytecode cache: in the venv (ignored by git and the
# linters, removed by make clean), else in the user's cache.
CACHE_DIR = (
    Path(sys.prefix) / "bench-cache" / "cold-start"
    if sys.prefix != sys.base_prefix
    else Path.home() / ".cache" / "customer-feedback-bench" / "cold-start"
)
CACHED, SHIPPED = "cached", "as shipped"
TOP = 5
# Timed inside the process: the import alone, not the interpreter's start-up.
MEASURE = (
    "import json, sys, time\n"
    "began = time.perf_counter()\n"
    "__import__(sys.argv[1])\n"
    "elapsed = time.perf_counter() - began\n"
    "botocore = sys.modules.get('botocore')\n"
    "print(json.dumps({'ms': elapsed * 1000, 'modules': len(sys.modules),"
    " 'botocore': getattr(botocore, '__file__', None)}))\n"
)
ELF_MACHINES = {"x86_64": 62, "amd64": 62, "aarch64": 183, "arm64": 183}


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str
    machine: str


@dataclass(frozen=True)
class Target:
    name: str  # a function's logical id, or "floor"
    module: str
    path: tuple[str, ...]  # PYTHONPATH
    environment: dict[str, str]


@dataclass
class Layout:
    name: str  # built | sources
    detail: str
    interpreter: Interpreter
    modes: tuple[str, ...]
    targets: list[Target]
    host_builds: list[str] = field(default_factory=list)  # requirements built for this host
    runtime: list[str] = field(default_factory=list)  # what stands in for the Lambda runtime
    pyc_in_artifacts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- interpreters and layouts


def _probe(command: list[str], env: dict[str, str]) -> Interpreter | None:
    script = (
        "import json, platform, sys; "
        "print(json.dumps([sys.executable, platform.python_version(), platform.machine()]))"
    )
    try:
        done = subprocess.run(  # noqa: S603 - a python we name
            [*command, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    executable, version, machine = json.loads(done.stdout)
    return Interpreter(executable, version, machine)


def lambda_python() -> Interpreter | None:
    """The Lambda runtime's python (3.13): pyenv's 3.13.0, or any python3.13 on PATH."""
    for extra in ({"PYENV_VERSION": "3.13.0"}, {}):
        found = _probe(["python3.13"], {**os.environ, **extra})
        if found and found.version.startswith(LAMBDA_PYTHON + "."):
            return found
    return None


def lambda_environment(
    function: sam.Function | None, path: Sequence[str], task_root: str
) -> dict[str, str]:
    """What a Lambda execution environment sets, then the function's own variables. A clean
    environment: nothing of this shell (no endpoint, no profile, no credentials files)."""
    name = function.logical_id if function else "floor"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(path),
        "PYTHONNOUSERSITE": "1",
        "AWS_REGION": sam.REGION,
        "AWS_DEFAULT_REGION": sam.REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"{sam.STACK_NAME}-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb if function else 512),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
    }
    if function is not None:
        environment["_HANDLER"] = function.handler
        environment.update(function.environment)
    return environment


def _distribution(dist_info: Path) -> tuple[str, str]:
    fields: dict[str, str] = {}
    for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields["Name"], fields["Version"]


def _elf_machine(path: Path) -> int | None:
    with path.open("rb") as binary:
        header = binary.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def foreign_distributions(root: Path, machine: str) -> list[str]:
    """name==version of every distribution under `root` with an extension module built for
    another machine than `machine` (from each dist-info's RECORD and the ELF header)."""
    host = ELF_MACHINES.get(machine.lower())
    found = []
    for dist_info in sorted(root.glob("*.dist-info")):
        record = dist_info / "RECORD"
        if not record.is_file():
            continue
        for line in record.read_text(encoding="utf-8").splitlines():
            relative = line.split(",", 1)[0]
            binary = root / relative
            if ".so" not in Path(relative).name or not binary.is_file():
                continue
            elf = _elf_machine(binary)
            if elf is not None and elf != host:
                name, version = _distribution(dist_info)
                found.append(f"{name}=={version}")
                break
    return found


def _pip_target(interpreter: Interpreter, kind: str, requirements: list[str], *opts: str) -> Path:
    """requirements installed with the interpreter's pip into a directory of CACHE_DIR (once
    per interpreter, machine and requirements)."""
    key = json.dumps([interpreter.version, interpreter.machine, sorted(requirements), opts])
    target = CACHE_DIR / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    marker = target / ".bench-complete"
    if marker.exists():
        return target
    print(
        f"installing {', '.join(requirements)} for python {interpreter.version} "
        f"{interpreter.machine} into {target} ...",
        flush=True,
    )
    command = [
        interpreter.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--root-user-action=ignore",
        "--only-binary=:all:",
        "--target",
        str(target),
        *opts,
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"pip install {requirements} failed: {done.stderr.strip()[-800:]}")
    marker.write_text(key + "\n", encoding="utf-8")
    return target


def _layer_botocore(layer: Path) -> str | None:
    for dist_info in layer.glob("botocore-*.dist-info"):
        return _distribution(dist_info)[1]
    return None


def _pyc_count(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.pyc"))


def built_layout(
    interpreter: Interpreter, functions: list[sam.Function], build_dir: Path
) -> Layout:
    layer = build_dir / sam.LAYER / "python"
    roots = [layer, *(build_dir / f.logical_id for f in functions)]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise RuntimeError(f"not in the build: {', '.join(missing)}")
    foreign = sorted(
        {d for root in roots for d in foreign_distributions(root, interpreter.machine)}
    )
    overlay: list[str] = []
    if foreign:
        overlay = [
            str(_pip_target(interpreter, "host-builds", foreign, "--no-deps", "--no-compile"))
        ]
    botocore = _layer_botocore(layer)
    runtime_requirements = ["boto3", *([f"botocore=={botocore}"] if botocore else [])]
    runtime = str(_pip_target(interpreter, "runtime", runtime_requirements))
    floor_path = (*overlay, str(layer), runtime)
    targets = [
        Target(
            FLOOR, FLOOR_MODULE, floor_path, lambda_environment(None, floor_path, str(CACHE_DIR))
        )
    ]
    for function in functions:
        code = build_dir / function.logical_id
        path = (*overlay, str(code), str(layer), runtime)
        environment = lambda_environment(function, path, str(code))
        targets.append(Target(function.logical_id, function.module, path, environment))
    detail = (
        f"python {interpreter.version} {interpreter.machine}, built artifacts: "
        f"{build_dir}/<Function> + {sam.LAYER}/python"
    )
    return Layout(
        name="built",
        detail=detail,
        interpreter=interpreter,
        modes=(CACHED, SHIPPED),
        targets=targets,
        host_builds=foreign,
        runtime=runtime_requirements,
        pyc_in_artifacts={str(r.relative_to(build_dir)): _pyc_count(r) for r in roots},
    )


def sources_layout(functions: list[sam.Function], layer_uri: str, reason: str) -> Layout:
    interpreter = Interpreter(sys.executable, sys.version.split()[0], os.uname().machine)
    layer = str(sam.REPO_ROOT / layer_uri)
    floor_path = (layer,)
    targets = [
        Target(
            FLOOR, FLOOR_MODULE, floor_path, lambda_environment(None, floor_path, str(CACHE_DIR))
        )
    ]
    for function in functions:
        code = str(sam.REPO_ROOT / function.code_uri)
        targets.append(
            Target(
                function.logical_id,
                function.module,
                (code, layer),
                lambda_environment(function, (code, layer), code),
            )
        )
    return Layout(
        name="sources",
        detail=f"python {interpreter.version} (the venv; {reason}), sources: "
        f"functions/<dir> + {layer_uri} and the venv's packages",
        interpreter=interpreter,
        modes=(CACHED,),
        targets=targets,
    )


def choose_layout(functions: list[sam.Function], build_dir: Path = sam.BUILD_DIR) -> Layout:
    layer_uri = sam.layer_content_uri()
    interpreter = lambda_python()
    if interpreter is None:
        return sources_layout(functions, layer_uri, f"no python{LAMBDA_PYTHON} found")
    if not build_dir.is_dir():
        return sources_layout(functions, layer_uri, "no .aws-sam/build: run make build")
    try:
        return built_layout(interpreter, functions, build_dir)
    except RuntimeError as error:
        return sources_layout(functions, layer_uri, f"the build is not usable: {error}")


# ---------------------------------------------------------------- measuring


def _mode_environment(target: Target, mode: str, interpreter: Interpreter) -> dict[str, str]:
    environment = dict(target.environment)
    if mode == CACHED:
        digest = hashlib.sha256(interpreter.executable.encode()).hexdigest()[:8]
        tag = f"{interpreter.version}-{digest}"
        environment["PYTHONPYCACHEPREFIX"] = str(CACHE_DIR / "pycache" / tag)
    else:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def import_once(
    layout: Layout, target: Target, mode: str, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [layout.interpreter.executable, "-s", *extra, "-c", MEASURE, target.module],
        env=_mode_environment(target, mode, layout.interpreter),
        cwd=CACHE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{target.name}: import {target.module} failed ({mode}):\n{done.stderr.strip()[-1500:]}"
        )
    return done


def measure(
    layout: Layout, repeats: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any]]:
    """Import times (ms) by target and mode: one warm-up round (not counted: it fills the
    bytecode cache and the file cache), then `repeats` rounds, every target once per round."""
    samples: dict[str, dict[str, list[float]]] = {
        t.name: {m: [] for m in layout.modes} for t in layout.targets
    }
    facts: dict[str, Any] = {}
    for round_number in range(repeats + 1):
        for mode in layout.modes:
            for target in layout.targets:
                result = json.loads(
                    import_once(layout, target, mode).stdout.strip().splitlines()[-1]
                )
                if round_number:
                    samples[target.name][mode].append(float(result["ms"]))
                else:
                    facts[target.name] = {
                        "modules": result["modules"],
                        "botocore": result["botocore"],
                    }
        if round_number and sys.stdout.isatty():
            print(f"  round {round_number}/{repeats}", end="\r", flush=True)
    if sys.stdout.isatty():
        print(" " * 30, end="\r")
    return samples, facts


# ---------------------------------------------------------------- what an import spends


@dataclass(frozen=True)
class ImportLine:
    name: str
    self_us: int
    cumulative_us: int


def parse_importtime(text: str) -> list[ImportLine]:
    """The lines of `python -X importtime` (stderr); other lines are skipped."""
    lines = []
    for raw in text.splitlines():
        if not raw.startswith("import time:"):
            continue
        parts = raw[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header
        lines.append(ImportLine(parts[2].strip(), int(parts[0]), int(parts[1])))
    return lines


def top_self(lines: list[ImportLine], count: int = TOP) -> list[dict[str, Any]]:
    ranked = sorted(lines, key=lambda line: -line.self_us)[:count]
    return [
        {
            "module": line.name,
            "self_ms": round(line.self_us / 1000, 1),
            "cumulative_ms": round(line.cumulative_us / 1000, 1),
        }
        for line in ranked
    ]


def top_packages(lines: list[ImportLine], count: int = TOP) -> list[dict[str, Any]]:
    """Self time summed by top-level package (survey_core.contracts -> survey_core)."""
    sums: Counter[str] = Counter()
    for line in lines:
        sums[line.name.split(".", 1)[0]] += line.self_us
    return [
        {"package": name, "self_ms": round(us / 1000, 1)} for name, us in sums.most_common(count)
    ]


def median_lines(runs: list[list[ImportLine]]) -> list[ImportLine]:
    """Per module, the median self and cumulative time of several runs (0 where a run did
    not import it), in the first run's order."""
    names = list(dict.fromkeys(line.name for run in runs for line in run))
    by_run = [{line.name: line for line in run} for run in runs]
    merged = []
    for name in names:
        found = [r.get(name, ImportLine(name, 0, 0)) for r in by_run]
        merged.append(
            ImportLine(
                name,
                int(statistics.median(line.self_us for line in found)),
                int(statistics.median(line.cumulative_us for line in found)),
            )
        )
    return merged


def import_breakdown(layout: Layout, target: Target, runs: int) -> dict[str, Any]:
    """The largest imports by self time, medians of `runs` runs of python -X importtime."""
    breakdown: dict[str, Any] = {"runs": runs}
    for mode in layout.modes:
        lines = median_lines(
            [
                parse_importtime(import_once(layout, target, mode, ("-X", "importtime")).stderr)
                for _ in range(runs)
            ]
        )
        breakdown[mode] = {"top_self": top_self(lines), "top_packages": top_packages(lines)}
    return breakdown


# ---------------------------------------------------------------- report


def figures(
    layout: Layout,
    samples: dict[str, dict[str, list[float]]],
    facts: dict[str, Any],
    functions: list[sam.Function],
    repeats: int,
) -> dict[str, Any]:
    floor = {mode: stats_ms(samples[FLOOR][mode]) for mode in layout.modes}
    result: dict[str, Any] = {
        "target_ratio": TARGET_RATIO,
        "repeats": repeats,
        "layout": layout.name,
        "layout_detail": layout.detail,
        "python": {
            "executable": layout.interpreter.executable,
            "version": layout.interpreter.version,
            "machine": layout.interpreter.machine,
        },
        "modes": list(layout.modes),
        "host_builds": layout.host_builds,
        "runtime_stand_in": layout.runtime,
        "pyc_in_artifacts": layout.pyc_in_artifacts,
        "floor": {"module": FLOOR_MODULE, **floor, **facts.get(FLOOR, {})},
        "functions": {},
    }
    for function in functions:
        name = function.logical_id
        modes = {mode: stats_ms(samples[name][mode]) for mode in layout.modes}
        ratios = {
            mode: round(ratio(modes[mode]["median_ms"], floor[mode]["median_ms"]), 2)
            for mode in layout.modes
        }
        verdicts = {mode: verdict(r, TARGET_RATIO) for mode, r in ratios.items()}
        result["functions"][name] = {
            "module": function.module,
            "handler": function.handler,
            "code_uri": function.code_uri,
            **modes,
            "ratio": ratios,
            "verdicts": verdicts,
            "verdict": OVER if OVER in verdicts.values() else OK,
            **facts.get(name, {}),
        }
    return result


def print_report(result: dict[str, Any]) -> None:
    modes = result["modes"]
    print(
        f"\ncold start: import of each handler module, median of {result['repeats']} fresh "
        f"processes each\n({result['layout_detail']})\n"
    )
    headers = ["function", "module"]
    for mode in modes:
        headers += [f"{mode} ms", "x floor"]
    headers.append("verdict")
    floor = result["floor"]
    rows = [
        [f"floor: import {FLOOR_MODULE}", FLOOR_MODULE]
        + [c for m in modes for c in (f"{floor[m]['median_ms']:.0f}", "1.00")]
        + [""]
    ]
    for name, f in result["functions"].items():
        cells = [name, f["module"]]
        for mode in modes:
            cells += [f"{f[mode]['median_ms']:.0f}", f"{f['ratio'][mode]:.2f}"]
        rows.append([*cells, f["verdict"]])
    print(format_table(headers, rows, align="ll" + "rr" * len(modes) + "l"))
    _print_notes(result)
    for name, f in result["functions"].items():
        for mode, breakdown in f.get("imports", {}).items():
            if mode == "runs":
                continue
            listed = ", ".join(f"{i['module']} {i['self_ms']:.0f}" for i in breakdown["top_self"])
            packages = ", ".join(
                f"{p['package']} {p['self_ms']:.0f}" for p in breakdown["top_packages"]
            )
            print(f"{name} ({mode}), top self time ms: {listed}\n    by package: {packages}")


def _print_notes(result: dict[str, Any]) -> None:
    over = [n for n, f in result["functions"].items() if f["verdict"] != OK]
    print(
        f"\ntarget: every function <= {TARGET_RATIO} x floor in each mode: "
        + (f"OVER TARGET: {', '.join(over)}" if over else "ok")
    )
    if CACHED in result["modes"]:
        print(f"{CACHED}: bytecode compiled once and reused, the import alone.")
    if SHIPPED in result["modes"]:
        pyc = result["pyc_in_artifacts"]
        print(
            f"{SHIPPED}: no .pyc written, modules without one in the artifacts compiled on every "
            f"import, as on Lambda (read-only /var/task, /opt).\n  .pyc files in the artifacts: "
            + ", ".join(f"{k} {v}" for k, v in pyc.items())
        )
    if result["host_builds"]:
        print(
            f"built for this machine instead of the layer's copies (other architecture): "
            f"{', '.join(result['host_builds'])}"
        )
    if result["runtime_stand_in"]:
        print(
            f"as the Lambda runtime provides it: {', '.join(result['runtime_stand_in'])} "
            "(the layer's botocore comes first; botocore loaded from "
            f"{result['floor'].get('botocore')})"
        )
    print("handler self time: the module's own top-level code (config, clients, catalogue).")


def summary(result: dict[str, Any]) -> list[Row]:
    floor = result["floor"]
    modes = result["modes"]
    rows = [
        Row(
            "cold_start",
            f"cold start floor: import {FLOOR_MODULE}",
            " / ".join(f"{m} {human_ms(floor[m]['median_ms'])}" for m in modes),
            number=floor[modes[0]]["median_ms"],
            unit="ms",
        )
    ]
    for name, f in result["functions"].items():
        value = " / ".join(
            f"{m} {ratio_text(f['ratio'][m], TARGET_RATIO)}x ({human_ms(f[m]['median_ms'])})"
            for m in modes
        )
        rows.append(
            Row(
                "cold_start",
                f"cold start {name}",
                value,
                f"<= {TARGET_RATIO}x floor",
                f["verdict"],
                number=f["ratio"][modes[0]],
                unit="x floor",
            )
        )
    return rows


def run(repeats: int, breakdown: str = "over", breakdown_runs: int = 3) -> dict[str, Any]:
    """breakdown: over (python -X importtime for functions over target), all, none."""
    functions = sam.functions()
    layout = choose_layout(functions)
    differences = (
        sam.build_differences(functions, sam.layer_content_uri()) if layout.name == "built" else []
    )
    print(
        f"cold start: {layout.detail}; {len(layout.targets)} modules x "
        f"{len(layout.modes)} modes x {repeats} processes ...",
        flush=True,
    )
    if differences:
        print(
            f"WARNING: .aws-sam/build differs from the sources in {len(differences)} files "
            f"(first: {differences[0]}): run make build",
            flush=True,
        )
    samples, facts = measure(layout, repeats)
    result = figures(layout, samples, facts, functions, repeats)
    result["build_matches_sources"] = not differences if layout.name == "built" else None
    result["build_differences"] = differences[:20]
    by_name = {t.name: t for t in layout.targets}
    for name, f in result["functions"].items():
        if breakdown == "all" or (breakdown == "over" and f["verdict"] != OK):
            f["imports"] = import_breakdown(layout, by_name[name], breakdown_runs)
    print_report(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=REPEATS, help="processes per module/mode")
    parser.add_argument(
        "--breakdown",
        choices=("over", "all", "none"),
        default="over",
        help="python -X importtime for functions over target (default), all, none",
    )
    parser.add_argument(
        "--breakdown-runs", type=int, default=3, help="python -X importtime runs (medians)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    result = run(args.repeats, args.breakdown, args.breakdown_runs)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
