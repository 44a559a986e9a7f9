"""The lean layer (layers/survey_core/build_layer.py): what it leaves out cannot be needed.

The tests and the local stack run on the full botocore and the full libraries, so a client of a
service the layer has no model for, or an import of a pruned library part, would fail on Lambda
only. These tests read the lists the build uses and check them against the code.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import boto3
import build_layer
import msgspec
import pytest
from survey_core.catalogue import CATALOGUE_PATH, digest, parse_catalogue, read_catalogue
from survey_core.report.config import REPORTS_PATH, load_groups, parse_groups

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LAYER_SOURCE = REPO / "layers" / "survey_core"
CODE = [LAYER_SOURCE / "survey_core", REPO / "functions"]
CLIENT_CALLS = ("client",)  # boto3.client(...), session.client(...), gateways.client(...)


def _python_files() -> list[Path]:
    return sorted(p for root in CODE for p in root.rglob("*.py"))


def clients_made(files: list[Path]) -> dict[str, list[str]]:
    """Service name -> where: every client("x", ...) / boto3.client("x") / *.client("x")
    call with a literal service name in the shipped code."""
    found: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if name in CLIENT_CALLS and isinstance(first, ast.Constant):
                where = f"{path}:{node.lineno}"
                found.setdefault(str(first.value), []).append(where)
    return found


def test_every_client_the_code_makes_has_its_model_in_the_layer() -> None:
    # Given the services whose data the build keeps
    kept = set(build_layer.services())
    # When every client call of the shipped code is found
    made = clients_made(_python_files())
    # Then each of them is kept, and so is PynamoDB's (it makes its own DynamoDB client)
    assert {"stepfunctions", "sesv2", "sns", "events"} <= made.keys()  # the scan finds them
    missing = {service: where for service, where in made.items() if service not in kept}
    assert not missing, f"add to layers/survey_core/aws-services.txt: {missing}"
    from pynamodb.connection.base import SERVICE_NAME

    assert SERVICE_NAME in kept


def test_every_listed_service_is_a_real_botocore_service() -> None:
    available = set(boto3.session.Session().get_available_services())
    assert set(build_layer.services()) <= available


def test_the_scan_finds_a_client_in_any_spelling(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "import boto3\nboto3.client('sqs')\nclient('kinesis', 'eu-north-1')\n"
        "boto3.session.Session().client(service_name='x')\nsession.client('sts')\n",
        encoding="utf-8",
    )
    assert set(clients_made([source])) == {"sqs", "kinesis", "sts"}


def test_the_trim_keeps_the_listed_services_and_the_shared_files(tmp_path: Path) -> None:
    # Given a botocore data directory of three services and its shared files
    data = tmp_path / "data"
    for service in ("dynamodb", "sqs", "ec2"):
        version = data / service / "2012-08-10"
        version.mkdir(parents=True)
        (version / "service-2.json.gz").write_bytes(b"model")
        (version / "examples-1.json").write_text("{}", encoding="utf-8")
    for name in (*build_layer.BOTOCORE_SHARED, "unknown.json"):
        (data / name).write_text('{"a": 1}', encoding="utf-8")
    # When it is trimmed to two services, the endpoints gzipped
    build_layer.trim_data(data, ["dynamodb", "sqs"], build_layer.BOTOCORE_SHARED)
    build_layer.gzip_files(data, build_layer.GZIPPED)
    # Then only their models and the shared files are left, examples dropped
    left = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())
    assert left == [
        "_retry.json",
        "dynamodb/2012-08-10/service-2.json.gz",
        "endpoints.json.gz",
        "partitions.json",
        "sdk-default-configuration.json",
        "sqs/2012-08-10/service-2.json.gz",
    ]


def test_botocore_reads_the_gzipped_endpoints_file(tmp_path: Path) -> None:
    # The layer ships endpoints.json gzipped: botocore's loader must find it there
    import botocore
    from botocore.loaders import Loader

    data = tmp_path / "data"
    data.mkdir()
    source = Path(botocore.__file__).with_name("data") / "endpoints.json"
    (data / "endpoints.json").write_bytes(source.read_bytes())
    build_layer.gzip_files(data, ["endpoints.json"])
    loaded = Loader(extra_search_paths=[str(data)], include_default_search_paths=False)
    assert loaded.load_data("endpoints") == json.loads(source.read_text(encoding="utf-8"))


def test_a_record_lists_only_the_files_left(tmp_path: Path) -> None:
    # Given a distribution whose RECORD lists a file the trim removed
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "kept.py").write_text("", encoding="utf-8")
    record = tmp_path / "lib-1.0.dist-info" / "RECORD"
    record.parent.mkdir()
    lines = [
        "lib/kept.py,sha256=a,0",
        "lib/data/gone.json,sha256=b,9",
        "lib-1.0.dist-info/RECORD,,",
    ]
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When the records are rewritten
    build_layer.rewrite_records(tmp_path)
    # Then the removed file is no longer listed, and the rest are, in their order
    assert record.read_text(encoding="utf-8").splitlines() == [lines[0], lines[2]]


# ---------------------------------------------------------------- pruned library parts


def _module_of(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module an import statement in the file names (at any depth: lazy imports too),
    relative imports resolved; names after `from x import` counted as possible submodules."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


# Kept modules that name a pruned part only for pydantic models (the layer has no pydantic):
# shared/functions.py in a pydantic-only helper.
PYDANTIC_ONLY = {
    "aws_lambda_powertools.shared.functions": "aws_lambda_powertools.event_handler",
}


def test_no_kept_module_imports_a_pruned_part() -> None:
    # Given the installed libraries, with the parts the build prunes
    site = Path(boto3.__file__).resolve().parents[1]
    pruned = {path.replace("/", ".") for path in build_layer.PRUNED}
    assert all((site / path).is_dir() for path in build_layer.PRUNED), "a pruned path moved"

    def is_pruned(name: str) -> str | None:
        return next((p for p in pruned if name == p or name.startswith(p + ".")), None)

    # When every import statement of the kept modules (and of our own code) is read
    offenders = []
    libraries = {path.split("/", 1)[0] for path in build_layer.PRUNED}
    for library in sorted(libraries):
        for path in sorted((site / library).rglob("*.py")):
            module = _module_of(path, site)
            if is_pruned(module):
                continue
            for name in _imports(path, module):
                hit = is_pruned(name)
                if hit and PYDANTIC_ONLY.get(module) != hit:
                    offenders.append(f"{module} imports {name}")
    for path in _python_files():
        for name in _imports(path, "functions.x"):
            if is_pruned(name):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    # Then none names a pruned part
    assert not offenders, offenders


# ---------------------------------------------------------------- the generated files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """survey_core as the layer's build leaves it, with msgspec (its value types are msgspec
    Structs) and none of pip's other libraries."""
    layer = tmp_path_factory.mktemp("layer")
    (layer / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    build_layer.copy_survey_core(LAYER_SOURCE / "survey_core", layer)
    build_layer.generate(layer)
    return layer


def _run_on_layer(built: Path, probe: str) -> list[str]:
    """The lines a cold start alone on the built layer prints: only the layer on the path (-S:
    no site-packages), no bytecode written into it."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=built,
        env={"PYTHONPATH": str(built), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return done.stdout.splitlines()


def test_the_layer_has_validators_and_json_and_no_font(built: Path) -> None:
    package = built / "survey_core"
    assert (package / "_validators" / "purchase_completed.py").is_file()
    assert (package / "_validators" / "catalogue.py").is_file()
    assert (package / "catalogue.json").is_file()
    assert (package / "report" / "reports.json").is_file()
    assert not (package / "report" / "fonts").exists()


def test_the_built_configuration_is_the_yaml_one(built: Path) -> None:
    # The JSON the functions read holds what the YAML in the repository says
    compiled = json.loads((built / "survey_core" / "catalogue.json").read_text(encoding="utf-8"))
    assert parse_catalogue(compiled["catalogue"], "catalogue.yaml") == read_catalogue(
        CATALOGUE_PATH, trust_stamp=False
    )
    assert compiled["digest"] == digest(CATALOGUE_PATH.read_text(encoding="utf-8"))
    groups = json.loads((built / "survey_core" / "report" / "reports.json").read_text("utf-8"))
    assert parse_groups(groups["groups"]) == load_groups(REPORTS_PATH)


def test_a_built_function_imports_no_schema_library_and_no_yaml(built: Path) -> None:
    # Given the built survey_core alone on the path (what a cold start sees)
    probe = (
        "import sys\n"
        "from survey_core import schemas\n"
        "from survey_core.catalogue import load_catalogue\n"
        "from survey_core.events import contracts\n"
        "from survey_core.report.config import load_groups\n"
        "contracts.prepare(contracts.INBOUND_DETAIL_TYPES)\n"
        "catalogue, groups = load_catalogue(), load_groups()\n"
        "try:\n"
        "    contracts.validate_detail('Purchase Completed', {'version': '2'})\n"
        "except contracts.InvalidEvent as invalid:\n"
        "    print(invalid.reason)\n"
        "print(sorted(m for m in ('yaml', 'jsonschema', 'fastjsonschema') if m in sys.modules))\n"
        "print(schemas.validator('purchase-completed').__module__)\n"
        "print(len(catalogue.surveys), len(groups))\n"
    )
    # When it loads its catalogue, report groups and validators, and rejects an event
    reason, modules, validator_module, counts = _run_on_layer(built, probe)
    # Then it used the generated code and the JSON: no YAML parser, no schema library
    assert modules == "[]"
    assert validator_module == "survey_core._validators.purchase_completed"
    assert reason.startswith("detail: missing required ")
    assert "detail.version: must be '1'" in reason
    surveys = len(read_catalogue(CATALOGUE_PATH).surveys)
    assert counts == f"{surveys} {len(load_groups(REPORTS_PATH))}"


def test_the_layer_ships_compiled_messages_and_reads_them_without_babel(built: Path) -> None:
    # Given the built survey_core: each language's .mo and no .po
    locale = built / "survey_core" / "messages" / "locale"
    assert sorted(p.parent.parent.name for p in locale.glob("*/LC_MESSAGES/surveys.mo")) == [
        "en",
        "fi",
        "sv",
    ]
    assert not list(locale.glob("*/LC_MESSAGES/*.po"))
    # When a cold start alone on the layer (no Babel on the path) asks for a Finnish text
    probe = (
        "import sys\n"
        "from survey_core.messages.i18n import text\n"
        "print(text('fi', 'thanks_title'))\n"
        "print('babel' in sys.modules)\n"
    )
    # Then it reads the .mo with the standard library's gettext
    assert _run_on_layer(built, probe) == ["Kiitos!", "False"]
