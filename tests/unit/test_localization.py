"""The message catalogues (.po -> .mo), the lookup by message id, formatting per language, display
names, and Babel's pruned locale data. The texts themselves are checked where they are shown
(test_no_raw_ids.py renders every output in every language)."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import babel
import msgspec
import pytest
from msgspec.structs import replace
from survey_core.messages import catalogues
from survey_core.messages import compile as compile_cli
from survey_core.messages.formatting import (
    BABEL_LOCALES,
    format_date,
    format_hours,
    format_number,
    format_percent,
    format_period,
    format_period_key,
    format_score_interval,
    format_signed,
)
from survey_core.messages.i18n import SUPPORTED_LANGUAGES, plural, resolve_language, text
from survey_core.messages.names import DisplayNames, readable

from functions.report import prune_babel as babel_data

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "layers" / "survey_core"
NBSP = "\u00a0"
# Where the code that shows texts lives: every message id must be used somewhere in it.
CODE_DIRS = [LAYER / "survey_core", REPO / "functions", REPO / "tools", REPO / "infra"]
TEMPLATES = LAYER / "survey_core" / "messages" / "templates"


# ---------------------------------------------------------------- the catalogues


def test_every_message_is_in_every_language_with_the_same_placeholders() -> None:
    # Then the shipped .po files have no problem at all (what `make check-catalogue` checks)
    assert catalogues.problems() == []
    ids = {language: set(catalogues.entries(language)) for language in SUPPORTED_LANGUAGES}
    assert ids["fi"] == ids["sv"] == ids["en"]
    assert len(ids["en"]) > 140


def _po(language: str, body: str, plural_forms: str = catalogues.PLURAL_FORMS) -> str:
    header = textwrap.dedent(
        f"""\
        msgid ""
        msgstr ""
        "Language: {language}\\n"
        "Plural-Forms: {plural_forms}\\n"
        "Content-Type: text/plain; charset=utf-8\\n"

        """
    )
    return header + textwrap.dedent(body)


def _write(root: Path, files: dict[str, str]) -> Path:
    for language, content in files.items():
        path = catalogues.po_path(language, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def test_the_check_finds_missing_messages_placeholders_fuzzy_and_empty_texts(
    tmp_path: Path,
) -> None:
    # Given catalogues where Swedish lacks a message, Finnish names another placeholder, one
    # text is fuzzy, one empty, one not a format text, and one is plural in English only
    en = """\
        msgid "greeting"
        msgstr "Hello {name}"

        msgid "bye"
        msgstr "Bye"

        msgid "count"
        msgid_plural "count"
        msgstr[0] "{count} answer"
        msgstr[1] "{count} answers"

        msgid "brace"
        msgstr "Fine"
        """
    fi = """\
        msgid "greeting"
        msgstr "Hei {nimi}"

        #, fuzzy
        msgid "bye"
        msgstr "Hei hei"

        msgid "count"
        msgstr "{count} vastausta"

        msgid "brace"
        msgstr "Rikki {"
        """
    sv = """\
        msgid "greeting"
        msgstr "Hej {name}"

        msgid "bye"
        msgstr ""

        msgid "count"
        msgid_plural "count"
        msgstr[0] "{count} svar"
        """
    root = _write(
        tmp_path,
        {"en": _po("en", en), "fi": _po("fi", fi), "sv": _po("sv", sv, "nplurals=1; plural=0;")},
    )
    # When they are checked
    found = "\n".join(catalogues.problems(root))
    # Then every problem is named with its file, line and message id
    fi_po = r"fi/LC_MESSAGES/surveys.po:\d+"
    assert re.search(fi_po + r": greeting: placeholders \{nimi\} differ", found)
    assert re.search(r"fi/LC_MESSAGES/surveys.po:\d+: bye: marked fuzzy", found)
    assert re.search(r"fi/LC_MESSAGES/surveys.po:\d+: count: plural here and not", found)
    assert re.search(r"fi/LC_MESSAGES/surveys.po:\d+: brace: not a str.format text", found)
    assert re.search(r"sv/LC_MESSAGES/surveys.po:\d+: bye: empty text", found)
    assert "sv/LC_MESSAGES/surveys.po: brace: missing" in found
    assert "sv/LC_MESSAGES/surveys.po: Plural-Forms must be" in found
    assert "en/LC_MESSAGES/surveys.po" not in found
    # and `make check-catalogue` fails on them, compiling nothing
    assert compile_cli.main(["--check", str(root)]) == 1
    assert not catalogues.mo_path("en", root).exists()


def test_compiled_catalogues_read_back_and_a_stale_one_is_compiled_in_memory(
    tmp_path: Path,
) -> None:
    # Given a copy of the shipped catalogues, compiled
    root = tmp_path / "locale"
    shutil.copytree(catalogues.LOCALE_DIR, root, ignore=shutil.ignore_patterns("*.mo"))
    written = catalogues.compile_catalogues(root)
    assert sorted(p.parent.parent.name for p in written) == ["en", "fi", "sv"]
    assert catalogues.compile_catalogues(root) == []  # up to date: nothing to do
    # Then each .mo holds exactly the .po's texts
    for language in SUPPORTED_LANGUAGES:
        with catalogues.mo_path(language, root).open("rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        for key, entry in catalogues.entries(language, root).items():
            if entry.plural:
                forms = tuple(compiled.ngettext(key, key, n) for n in (1, 2))
                assert forms == entry.text, (language, key)
            else:
                assert compiled.gettext(key) == entry.text, (language, key)
    # When a .po is edited after its .mo was made
    po = catalogues.po_path("fi", root)
    po.write_text(po.read_text("utf-8").replace("Kiitos!", "Kiitos paljon!"), "utf-8")
    mo = catalogues.mo_path("fi", root)
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    # Then the stale .mo is not used: the .po is compiled in memory (a work tree shows its text)
    assert catalogues.is_stale("fi", root)
    assert catalogues.load("fi", root).gettext("thanks_title") == "Kiitos paljon!"
    # and a .mo without its .po (a layer that ships only .mo files) is used as it is
    po.unlink()
    assert not catalogues.is_stale("fi", root)
    assert catalogues.load("fi", root).gettext("thanks_title") == "Kiitos!"
    # and without either, the error says how to compile
    mo.unlink()
    with pytest.raises(catalogues.CatalogueMissing, match=r"survey_core\.messages\.compile"):
        catalogues.load("fi", root)


def test_the_compile_command_compiles_and_checks_the_shipped_catalogues(tmp_path: Path) -> None:
    root = tmp_path / "locale"
    shutil.copytree(catalogues.LOCALE_DIR, root, ignore=shutil.ignore_patterns("*.mo"))
    assert compile_cli.main([str(root)]) == 0
    assert all(catalogues.mo_path(language, root).is_file() for language in SUPPORTED_LANGUAGES)
    assert compile_cli.main(["--check", "--force", str(root)]) == 0


def test_a_report_scoped_to_a_value_without_a_display_name_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from survey_core.report import config

    # Given a report group scoped to a business area the catalogue gives no name
    groups = config.load_groups()
    webshop = next(g for g in groups if g.scope.attribute == "businessArea")
    unnamed = replace(webshop, scope=config.Scope("businessArea", "pop-up-stores"))
    monkeypatch.setattr(config, "load_groups", lambda: (*groups, unnamed))
    # Then the check names it and where to add the name
    [problem] = compile_cli.name_problems()
    assert "scope businessArea=pop-up-stores has no display name" in problem
    assert "segments.businessArea.pop-up-stores" in problem


# ---------------------------------------------------------------- the lookup


def test_text_looks_up_by_id_with_named_placeholders() -> None:
    assert text("fi", "subject", company="Esimerkki Oy") == (
        "Miten onnistuimme? Kerro mielipiteesi - Esimerkki Oy"
    )
    assert text("sv", "thanks_title") == "Tack!"
    assert text("en-GB", "thanks_title") == "Thank you!"  # resolved to en
    assert text("de", "thanks_title") == "Thank you!"  # unsupported: English
    # A message id no catalogue has is an error, never shown as its id
    with pytest.raises(KeyError):
        text("fi", "no_such_message")
    # A placeholder the caller did not give is an error too
    with pytest.raises(KeyError):
        text("fi", "subject")


def test_plural_messages_take_the_form_for_the_count(tmp_path: Path) -> None:
    # Given a catalogue with a plural message, compiled
    body = """\
        msgid "overdue"
        msgid_plural "overdue"
        msgstr[0] "{count} soitto myöhässä"
        msgstr[1] "{count} soittoa myöhässä"
        """
    root = _write(tmp_path, {"fi": _po("fi", body)})
    catalogues.compile_catalogues(root, ["fi"])
    translations = catalogues.load("fi", root)
    # Then the form follows the count (fi, sv, en: one form for 1, one for the rest)
    assert translations.ngettext("overdue", "overdue", 1).format(count=1) == "1 soitto myöhässä"
    assert translations.ngettext("overdue", "overdue", 2).format(count=2) == "2 soittoa myöhässä"
    # and i18n.plural reads the shipped catalogues the same way (patched in the module copy
    # `plural` came from: the local stack's loader may have imported survey_core afresh since)
    namespace = plural.__globals__
    original = namespace["translations"]
    try:
        namespace["translations"] = lambda language: translations
        assert plural("fi", "overdue", 3) == "3 soittoa myöhässä"
    finally:
        namespace["translations"] = original


@pytest.mark.parametrize(
    ("given", "expected"),
    [("fi", "fi"), ("FI", "fi"), ("fi-FI", "fi"), ("sv_SE", "sv"), ("de", "en"), (None, "en")],
)
def test_languages_resolve(given: str | None, expected: str) -> None:
    assert resolve_language(given) == expected


# ---------------------------------------------------------------- unused and unknown ids


def _python_strings(path: Path) -> tuple[set[str], list[tuple[str, str]]]:
    """A file's string constants, and its f-strings as (prefix, suffix) around one field."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants: set[str] = set()
    patterns: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            fields = [p for p in parts if isinstance(p, ast.FormattedValue)]
            if len(fields) == 1:
                index = parts.index(fields[0])
                before = "".join(p.value for p in parts[:index] if isinstance(p, ast.Constant))
                after = "".join(p.value for p in parts[index + 1 :] if isinstance(p, ast.Constant))
                patterns.append((str(before), str(after)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            constants.add(node.value)
    return constants, patterns


def _code() -> tuple[set[str], list[tuple[str, str]], set[str]]:
    """Every string constant and f-string pattern of the code, and the templates' strings."""
    constants: set[str] = set()
    patterns: list[tuple[str, str]] = []
    for folder in CODE_DIRS:
        for path in folder.rglob("*.py"):
            found, shapes = _python_strings(path)
            constants |= found
            patterns += shapes
    template_strings: set[str] = set()
    for path in TEMPLATES.iterdir():
        template_strings |= set(re.findall(r"""["']([a-z0-9_]+)["']""", path.read_text("utf-8")))
    return constants, patterns, template_strings


def _used(key: str, constants: set[str], patterns: list[tuple[str, str]]) -> bool:
    """A message id is used when the code names it, or builds it with an f-string whose field
    is something the code names (f"error_{reason}" with "missing-score" somewhere)."""
    if key in constants:
        return True
    for before, after in patterns:
        if (before or after) and key.startswith(before) and key.endswith(after):
            middle = key[len(before) : len(key) - len(after)] if after else key[len(before) :]
            if middle and (middle in constants or middle.replace("_", "-") in constants):
                return True
    return False


def test_no_message_is_unused() -> None:
    constants, patterns, template_strings = _code()
    every_id = set(catalogues.entries("en"))
    unused = sorted(
        key for key in every_id if not _used(key, constants | template_strings, patterns)
    )
    assert unused == [], f"in the catalogues but used nowhere: {unused}"


def test_every_message_id_the_code_names_is_in_the_catalogues() -> None:
    # Every literal first argument of t(...) in a template and of text(...) / plural(...) in
    # the code is a message id the catalogues have
    every_id = set(catalogues.entries("en"))
    named: set[str] = set()
    for path in TEMPLATES.iterdir():
        named |= set(re.findall(r"""\bt\(\s*["']([^"']+)["']""", path.read_text("utf-8")))
    for folder in CODE_DIRS:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = {"text": 1, "plural": 1}.get(name)
                if name == "text" and isinstance(node.func, ast.Attribute):
                    position = 0  # Localizer.text(key)
                if position is None or len(node.args) <= position:
                    continue
                argument = node.args[position]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    named.add(argument.value)
    assert named, "found no message ids in the code"
    assert sorted(named - every_id) == []


def test_the_usage_scan_sees_unused_ids_and_f_string_families() -> None:
    constants = {"thanks_title", "missing-score", "nps"}
    patterns = [("error_", ""), ("question_", "")]
    assert _used("thanks_title", constants, patterns)
    assert _used("error_missing_score", constants, patterns)  # built from "missing-score"
    assert _used("question_nps", constants, patterns)
    assert not _used("error_no_such_reason", constants, patterns)
    assert not _used("thanks_body", constants, patterns)


# ---------------------------------------------------------------- numbers and dates


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", ["3\u00a0010", "82,5", "-12,3", "0,0", "82,5\u00a0%", "19,0\u00a0%", "+2,3"]),
        ("sv", ["3\u00a0010", "82,5", "-12,3", "0,0", "82,5\u00a0%", "19,0\u00a0%", "+2,3"]),
        ("en", ["3,010", "82.5", "-12.3", "0.0", "82.5%", "19.0%", "+2.3"]),
    ],
)
def test_numbers_and_percentages_are_written_as_each_language_does(
    language: str, expected: list[str]
) -> None:
    assert [
        format_number(language, 3010),
        format_number(language, 82.46, 1),
        format_number(language, -12.34, 1),
        format_number(language, -0.04, 1),  # no "-0,0"
        format_percent(language, 82.5),
        format_percent(language, 518 / 2730 * 100),
        format_signed(language, 2.25),
    ] == expected


def test_rounding_is_half_away_from_zero_as_in_the_workbook() -> None:
    assert format_number("en", 18.5) == "19"
    assert format_number("en", -18.5) == "-19"
    assert format_number("fi", 2.25, 1) == "2,3"
    assert format_signed("fi", -1.5) == "-1,5"
    assert format_signed("fi", 0.04) == "0,0"  # no sign for no change


def test_intervals_hours_and_dates() -> None:
    assert format_score_interval("fi", 20.14, 39.9) == "20,1–39,9"
    assert format_score_interval("en", -12, 30, 0) == "-12 – 30"  # the dash is no minus
    assert format_hours("fi", 3) == "3,0 h"
    assert format_date("fi", date(2026, 11, 16)) == "16.11.2026"
    assert format_date("sv", "2026-11-16") == "16 nov. 2026"
    assert format_date("en", "2026-11-16") == "16 Nov 2026"
    assert format_date("en", "not a date") == "not a date"
    assert format_period("fi", date(2026, 11, 16), date(2026, 11, 22)) == "16.–22.11.2026"
    assert format_period("fi", date(2026, 11, 30), date(2026, 12, 6)) == "30.11.–6.12.2026"
    assert format_period("sv", date(2026, 11, 16), date(2026, 11, 22)) == "16–22 nov. 2026"
    assert format_period("en", date(2026, 11, 16), date(2026, 11, 16)) == "16 Nov 2026"


@pytest.mark.parametrize(
    ("language", "full", "short"),
    [
        ("fi", ["vk 47/2026", "16.11.2026", "marraskuu 2026", "16.–22.11.2026"], "vk 47"),
        ("sv", ["v. 47/2026", "16 nov. 2026", "november 2026", "16–22 nov. 2026"], "v. 47"),
        ("en", ["wk 47/2026", "16 Nov 2026", "November 2026", "16–22 Nov 2026"], "wk 47"),
    ],
)
def test_period_keys_are_shown_in_the_language(language: str, full: list[str], short: str) -> None:
    keys = ["2026-W47", "2026-11-16", "2026-11", "2026-11-16 – 2026-11-22"]
    assert [format_period_key(language, key) for key in keys] == full
    assert format_period_key(language, "2026-W47", short=True) == short
    assert format_period_key(language, "Christmas") == "Christmas"


# ---------------------------------------------------------------- display names


def test_display_names_come_from_the_catalogue_and_fall_back_readably() -> None:
    from survey_core.catalogue import load_catalogue

    names = load_catalogue().names
    assert names.survey("fi", "post-purchase") == "Oston jälkeen"
    assert names.survey("sv", "post-purchase") == "Efter köpet"
    assert names.survey("en", "post-purchase") == "After purchase"
    assert names.value("fi", "businessArea", "webshop") == "Verkkokauppa"
    assert names.scope("fi", "businessArea", "webshop") == "Liiketoiminta-alue: Verkkokauppa"
    assert names.scope("fi", None, None) == "kaikki"
    assert names.scope("sv", None, None) == "allt"
    # Unknown: a readable form of a slug, a code as it is; never a message id
    assert names.survey("fi", "spring-campaign") == "Spring campaign"
    assert names.value("fi", "businessArea", "home-delivery") == "Home delivery"
    assert names.value("fi", "agentId", "agent-7") == "agent-7"
    assert names.value("fi", "storeId", "HEL-01") == "HEL-01"
    assert names.value("fi", "touchpoint", "Kamppi Mall") == "Kamppi Mall"
    assert DisplayNames().survey("fi", "post-purchase") == "Post purchase"


def test_readable_forms_of_ids() -> None:
    assert readable("post-purchase") == "Post purchase"
    assert readable("businessArea") == "Business area"
    assert readable("b2b") == "B2b"
    assert readable("NPS") == "NPS"
    assert readable("") == ""


# ---------------------------------------------------------------- Babel's locale data


def test_babel_pruned_to_the_three_languages_still_formats_them(tmp_path: Path) -> None:
    # Given a copy of the installed Babel, pruned as the report function's build prunes it
    site = tmp_path / "site"
    shutil.copytree(
        Path(babel.__file__).parent, site / "babel", ignore=shutil.ignore_patterns("__pycache__")
    )
    (site / "msgspec").symlink_to(Path(msgspec.__file__).parent)  # survey_core's own library
    before, after = babel_data.prune(site)
    kept = sorted(p.stem for p in (site / babel_data.LOCALE_DATA).glob("*.dat"))
    # Then only fi, sv, en_GB and what they inherit from are left: under a tenth of the size
    assert kept == ["en", "en_001", "en_GB", "fi", "root", "sv"]
    assert after < before / 10
    assert after < 3_000_000
    # and in a fresh interpreter with only that Babel, every language formats as before
    script = (
        "from survey_core.messages.formatting import *\n"
        "from datetime import date\n"
        "for l in ('fi', 'sv', 'en'):\n"
        "    print(format_number(l, 3010.5, 1), format_percent(l, 82.5), format_date(l, "
        "date(2026, 11, 16)), format_period(l, date(2026, 11, 16), date(2026, 11, 22)), "
        "format_period_key(l, '2026-11'), format_period_key(l, '2026-11-16', short=True))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(LAYER)])}
    pruned = subprocess.run(  # this interpreter, a fixed script
        [sys.executable, "-S", "-c", script], env=env, capture_output=True, text=True, check=True
    )
    expected = "\n".join(
        " ".join(
            [
                format_number(lang, 3010.5, 1),
                format_percent(lang, 82.5),
                format_date(lang, date(2026, 11, 16)),
                format_period(lang, date(2026, 11, 16), date(2026, 11, 22)),
                format_period_key(lang, "2026-11"),
                format_period_key(lang, "2026-11-16", short=True),
            ]
        )
        for lang in ("fi", "sv", "en")
    )
    assert pruned.stdout.strip() == expected


def test_the_inheritance_of_locales_follows_cldr() -> None:
    site = Path(babel.__file__).parent.parent
    exceptions = babel_data.parent_exceptions(site)
    assert babel_data.inheritance("en_GB", exceptions) == ["en_GB", "en_001", "en", "root"]
    assert babel_data.inheritance("fi", exceptions) == ["fi", "root"]
    assert babel_data.inheritance("sv_FI", exceptions) == ["sv_FI", "sv", "root"]


def test_the_report_build_keeps_the_locales_the_formatting_uses() -> None:
    # The report function's build prunes Babel to its own list: the same as formatting's
    assert set(babel_data.LOCALES) == set(BABEL_LOCALES.values())
