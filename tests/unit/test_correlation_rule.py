"""Every function sets (or clears) its correlation id before anything can log: Powertools'
inject_lambda_context with a correlation_id_path on plain handlers (it sets the path's value,
None when the event has none), and in the Chalice app a first call that sets it (its "http"
middleware, the first line of the SMS handler: there a helper of the function's own folder whose
first call sets it). The behaviour itself is tested in
tests/integration/test_correlation_ids.py; this keeps new functions to the rule."""

import ast
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {
    name: resource["Properties"]
    for name, resource in yaml_parse((ROOT / "template.yaml").read_text())["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def _module(properties: dict) -> ast.Module:
    module = properties["Handler"].rpartition(".")[0]
    return ast.parse((ROOT / properties["CodeUri"] / f"{module}.py").read_text(encoding="utf-8"))


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _called(node: ast.AST) -> str:
    """The dotted name a call calls: "logger.inject_lambda_context", "_start"."""
    return ast.unparse(node.func) if isinstance(node, ast.Call) else ""


def _first_call(function: ast.FunctionDef) -> str:
    for statement in function.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                return _called(node)
    return ""


def _helper(tree: ast.Module, name: str, code_uri: str) -> ast.FunctionDef | None:
    """The function a handler calls by this name: defined in its module, or imported from a
    module or package of the function's own folder (functions/collect/collect_requests)."""
    if name in _functions(tree):
        return _functions(tree)[name]
    imported = {
        alias.asname or alias.name: (node.module, alias.name)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
        for alias in node.names
    }
    if name not in imported:
        return None
    module, original = imported[name]
    base = ROOT / code_uri / module.replace(".", "/")
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():  # not a library's module: the function's own
            return _functions(ast.parse(path.read_text(encoding="utf-8"))).get(original)
    return None


def _starts_by_correlating(tree: ast.Module, function: ast.FunctionDef, code_uri: str) -> bool:
    first = _first_call(function)
    if first in ("correlate", "logger.set_correlation_id"):
        return True
    helper = _helper(tree, first, code_uri)
    return helper is not None and _first_call(helper) in ("correlate", "logger.set_correlation_id")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_handler_sets_its_correlation_id_first(name: str) -> None:
    properties = FUNCTIONS[name]
    tree = _module(properties)
    attribute = properties["Handler"].rpartition(".")[2]
    functions = _functions(tree)
    if attribute == "app":  # the Chalice app: its HTTP middleware runs first in each request
        middleware = [
            f
            for f in functions.values()
            for d in f.decorator_list
            if _called(d) == "app.middleware" and ast.literal_eval(d.args[0]) in ("http", "all")
        ]
        assert middleware, f"{name}: the Chalice app needs an http middleware"
        correlates = _starts_by_correlating(tree, middleware[0], properties["CodeUri"])
        assert correlates, f"{name}: middleware must correlate"
        return
    handler = functions[attribute]
    decorators = {_called(d): d for d in handler.decorator_list}
    if "logger.inject_lambda_context" in decorators:
        keywords = {k.arg for k in decorators["logger.inject_lambda_context"].keywords}  # type: ignore[attr-defined]
        if "record_handler" in functions:  # a batch: each record sets its own id first
            assert _starts_by_correlating(tree, functions["record_handler"], properties["CodeUri"])
            return
        assert "correlation_id_path" in keywords, f"{name}: give inject_lambda_context a path"
    else:  # a Chalice event handler (app.on_sns_message, ...): its first call correlates
        correlates = _starts_by_correlating(tree, handler, properties["CodeUri"])
        assert correlates, f"{name}: set the correlation id first"
