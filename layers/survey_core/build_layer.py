"""The CoreLayer's build after pip has installed the locked wheels (layers/survey_core/Makefile
runs it with Lambda's python3.13): what makes the layer small and its cold start short.

    python3.13 build_layer.py LAYER_DIR

1. survey_core is copied in, without the report's font (only the report function draws: its
   own package carries the font, Pillow and XlsxWriter; functions/report/Makefile).
2. botocore's and boto3's data are trimmed to the services in aws-services.txt (botocore's models
   of 400-odd services are most of its size) and the few files every client reads; the
   endpoints file is stored gzipped, which botocore's loader reads as it reads its models.
3. Parts of libraries that nothing here can import are removed (PRUNED; each with its reason;
   tests/unit/test_layer_build.py checks that no kept module imports one), and each
   distribution's RECORD lists only the files that are left.
4. The JSON Schemas become Python validators (survey_core.schemas), and catalogue.yaml and
   reports.yaml become JSON: a cold start imports no schema library and no YAML parser. The
   message catalogues (messages/locale/*/LC_MESSAGES/surveys.po) are compiled to .mo, which
   the standard library's gettext reads, and the .po sources are left out. The tools that do
   that (fastjsonschema, PyYAML, Babel) are build tools only: on the path while this runs (the
   Makefile installs them apart), not in the layer.

The bytecode is compiled by the Makefile afterwards, for everything that is left.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
SERVICES_FILE = HERE / "aws-services.txt"
# What the report function ships itself (functions/report/): never in the shared layer.
REPORT_ONLY = ("report/fonts",)
# botocore data files read by every client, whatever its service.
BOTOCORE_SHARED = (
    "_retry.json",
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
)
GZIPPED = ("endpoints.json",)
# examples-1.json only feeds generated documentation (docstrings), never a call.
DOCUMENTATION_ONLY = ("examples-1.json",)
# Library parts the code never reaches (paths below the layer's python/ directory). Powertools
# imports these only on demand, and its two references from kept modules need pydantic, which
# the layer does not have (batch/types.py, shared/functions.py).
PRUNED = {
    "aws_lambda_powertools/event_handler": "HTTP routing: Chalice serves the pages",
    "aws_lambda_powertools/utilities/parser": "pydantic models: not used",
    "aws_lambda_powertools/utilities/auth_alpha": "not used",
    "aws_lambda_powertools/utilities/idempotency": "not used",
    "aws_lambda_powertools/utilities/parameters": "not used",
    "aws_lambda_powertools/utilities/feature_flags": "not used",
    "aws_lambda_powertools/utilities/circuit_breaker": "not used",
    "aws_lambda_powertools/utilities/kafka": "not used",
    "aws_lambda_powertools/utilities/data_masking": "not used",
    "aws_lambda_powertools/utilities/streaming": "not used (S3 streaming)",
    "aws_lambda_powertools/utilities/validation": "not used: survey_core.schemas validates",
    "aws_lambda_powertools/utilities/metadata": "not used",
    "aws_lambda_powertools/utilities/batch": "not used: the stream consumers report their own",
    "aws_lambda_powertools/utilities/data_classes": "not used: handlers read events as dicts",
}


def services(path: Path = SERVICES_FILE) -> list[str]:
    """The service names of aws-services.txt (comments and blank lines skipped)."""
    lines = (
        line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
    )
    return [line for line in lines if line]


def copy_survey_core(source: Path, layer: Path) -> None:
    skipped = shutil.ignore_patterns("__pycache__", "*.pyc", "_validators")
    target = layer / "survey_core"
    shutil.copytree(source, target, ignore=skipped, dirs_exist_ok=True)
    for relative in REPORT_ONLY:
        shutil.rmtree(target / relative, ignore_errors=True)


def trim_data(data: Path, keep: Iterable[str], shared: Iterable[str] = ()) -> list[str]:
    """Remove every service directory of a botocore/boto3 data directory but those in keep,
    and every top-level file but those in shared; return what was removed."""
    kept, shared_files = set(keep), set(shared)
    removed = []
    for entry in sorted(data.iterdir()):
        if entry.is_dir() and entry.name not in kept:
            shutil.rmtree(entry)
            removed.append(entry.name)
        elif entry.is_file() and entry.name not in shared_files:
            entry.unlink()
            removed.append(entry.name)
    for path in data.rglob("*"):
        if path.is_file() and path.name in DOCUMENTATION_ONLY:
            path.unlink()
    return removed


def gzip_files(data: Path, names: Iterable[str]) -> None:
    """name.json -> name.json.gz: botocore's JSON loader reads either."""
    for name in names:
        plain = data / name
        if plain.is_file():
            # mtime 0: the same input gives the same bytes (sam build --cached compares them).
            packed = gzip.compress(plain.read_bytes(), mtime=0)
            Path(f"{plain}.gz").write_bytes(packed)
            plain.unlink()


def trim_sdk(layer: Path, keep: list[str]) -> None:
    missing = [s for s in keep if not (layer / "botocore" / "data" / s).is_dir()]
    if missing:
        raise SystemExit(f"aws-services.txt: botocore has no data for {', '.join(missing)}")
    trim_data(layer / "botocore" / "data", keep, BOTOCORE_SHARED)
    gzip_files(layer / "botocore" / "data", GZIPPED)
    if (layer / "boto3" / "data").is_dir():  # resource models: kept for the same services
        trim_data(layer / "boto3" / "data", keep)


def prune(layer: Path, paths: Iterable[str] = PRUNED) -> None:
    for relative in paths:
        shutil.rmtree(layer / relative, ignore_errors=True)


def generate(layer: Path) -> None:
    """Validators and JSON configuration, in the layer's copy of survey_core."""
    # The layer's msgspec is built for Lambda's machine; this machine's (a build tool) is loaded
    # first, so that survey_core's imports find it.
    import msgspec.structs  # noqa: F401

    sys.path.insert(0, str(layer))
    try:
        from survey_core import catalogue, schemas
        from survey_core.messages import catalogues
        from survey_core.report import config
    finally:
        sys.path.remove(str(layer))
    package = layer / "survey_core"
    schemas.generate(package / schemas.GENERATED_PACKAGE)
    catalogue_yaml = package / catalogue.CATALOGUE_PATH.name
    catalogue.compile_catalogue(catalogue_yaml, catalogue.compiled_path(catalogue_yaml))
    reports_yaml = package / "report" / config.REPORTS_PATH.name
    config.compile_groups(reports_yaml, config.compiled_path(reports_yaml))
    stamp = catalogue.stamp_path(catalogue_yaml)
    if not stamp.is_file() or stamp.read_text(encoding="ascii").strip() != catalogue.digest(
        catalogue_yaml.read_text(encoding="utf-8")
    ):
        # Not fatal: an unstamped catalogue is checked in full at every cold start instead.
        print(
            "warning: catalogue.yaml does not match catalogue.checked (make check-catalogue "
            "stamps it): the functions will check it at every cold start",
            file=sys.stderr,
        )
    # The functions read the JSON; the YAML stays beside it, as written (a few KB), so the
    # layer still holds what the repository has.
    compile_messages(package / "messages" / "locale", catalogues)


def compile_messages(locale_dir: Path, catalogues: ModuleType) -> None:
    """Every language's .po compiled to its .mo beside it; the .po removed, so nothing in the
    layer can find a .po newer than its .mo and compile it again at run time."""
    problems = catalogues.problems(locale_dir)
    if problems:
        raise SystemExit("\n".join(["message catalogues:", *problems]))
    catalogues.compile_catalogues(locale_dir, force=True)
    for po in locale_dir.glob(f"*/LC_MESSAGES/{catalogues.DOMAIN}.po"):
        po.unlink()


def rewrite_records(layer: Path) -> None:
    """Each distribution's RECORD lists only the files still there: botocore's listed the data
    of 400-odd services that trim_sdk removed (about 230 KB of the layer). Nothing imports
    RECORD; bench/cold_start.py reads it to find a distribution's extension modules."""
    for record in layer.glob("*.dist-info/RECORD"):
        lines = record.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if (layer / line.split(",", 1)[0]).exists()]
        record.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def build(layer: Path, source: Path = HERE / "survey_core") -> None:
    copy_survey_core(source, layer)
    trim_sdk(layer, services())
    prune(layer)
    rewrite_records(layer)
    generate(layer)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3.13 build_layer.py LAYER_DIR")
    build(Path(sys.argv[1]).resolve())
