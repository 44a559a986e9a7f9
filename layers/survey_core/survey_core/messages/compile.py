"""Compile the message catalogues (.po -> .mo), and check them.

    python -m survey_core.messages.compile [--force] [LOCALE_DIR]
        compile every language's .po whose .mo is missing or older (all of them with --force);
        LOCALE_DIR defaults to survey_core/messages/locale (the layer's build passes its copy)
    python -m survey_core.messages.compile --check
        compile, then check: every message in every language, no empty or fuzzy text, the same
        placeholders in every language, and a display name for every survey and for every
        segment value a report group is scoped to (catalogue.yaml, reports.yaml); every
        problem printed, exit status 1 if there is any

Run by `make check-catalogue` (and so by `make build`, `make test` and `make deploy`) and by
every make target that runs code from the work tree; the layer's build runs it on its copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import catalogues


def name_problems() -> list[str]:
    """Display names the survey catalogue must give: one per survey (the schema makes sure) and
    one per segment value a report group is scoped to."""
    from ..catalogue import CATALOGUE_PATH, load_catalogue
    from ..report.config import REPORTS_PATH, load_groups

    catalogue = load_catalogue()
    found = []
    for group in load_groups():
        scope = group.scope
        if scope.attribute is None or scope.value is None:
            continue
        if not catalogue.names.has_value(scope.attribute, scope.value):
            found.append(
                f"{REPORTS_PATH.name}: group {group.name!r}: scope {scope.attribute}="
                f"{scope.value} has no display name: add it to {CATALOGUE_PATH.name} under "
                f"segments.{scope.attribute}.{scope.value} (fi, sv, en)"
            )
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    force = "--force" in argv
    paths = [arg for arg in argv if not arg.startswith("--")]
    locale_dir = Path(paths[0]) if paths else catalogues.LOCALE_DIR
    problems = catalogues.problems(locale_dir) if check else []
    if not problems:
        for written in catalogues.compile_catalogues(locale_dir, force=force):
            print(f"{written}: compiled")
    if check:
        problems += name_problems()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"{locale_dir}: ok ({', '.join(catalogues.LANGUAGES)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
