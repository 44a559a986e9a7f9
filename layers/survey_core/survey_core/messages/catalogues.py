"""The message catalogues: one gettext .po file per language (the source, kept in git) and the
.mo file compiled from it (made by the build, never committed), looked up by message id.

    locale/<language>/LC_MESSAGES/surveys.po   the texts, written by people
    locale/<language>/LC_MESSAGES/surveys.mo   what the functions read (stdlib gettext)

Message ids are symbolic ("report_title", "error_404_body"), not English sentences: every
language, English included, is a translation, so a missing text is missing in a file, not
silently shown as its id. Placeholders are named, in str.format style ("{company}"), and
the same in every language (`problems` checks it).

Reading a .mo needs only the standard library. Babel (babel.messages) reads and writes the .po
files and compiles them: at build time (`python -m survey_core.messages.compile`), and in a
work tree whose .mo is missing or older than its .po, where `load` compiles it in memory, so a
test, the local stack or a tool run from a fresh checkout never shows stale texts.
"""

from __future__ import annotations

import gettext
import io
import os
import string
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

DOMAIN = "surveys"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("fi", "sv", "en")
# Finnish, Swedish and English: one form for 1, another for everything else.
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


class CatalogueMissing(LookupError):
    """Neither a compiled .mo nor its .po source exists for a language."""


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return po_path(language, locale_dir).with_suffix(".mo")


def read_po(path: Path) -> Catalog:
    from babel.messages.pofile import read_po as babel_read_po

    with path.open("rb") as source:
        return babel_read_po(source, locale=path.parents[1].name, abort_invalid=True)


def mo_bytes(po: Path) -> bytes:
    """The .po file compiled: what its .mo holds. Fuzzy entries are left out, as msgfmt does."""
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, read_po(po), use_fuzzy=False)
    return out.getvalue()


def is_stale(language: str, locale_dir: Path = LOCALE_DIR) -> bool:
    """Whether the .mo is missing or older than its .po (a .mo without a .po, as a layer may
    ship it, is never stale)."""
    mo, po = mo_path(language, locale_dir), po_path(language, locale_dir)
    if not po.is_file():
        return not mo.is_file()
    return not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogues(
    locale_dir: Path = LOCALE_DIR, languages: Iterable[str] = LANGUAGES, force: bool = False
) -> list[Path]:
    """Compile every language's .po to its .mo beside it; the .mo files written. Each is written
    to a temporary file and renamed, so a reader (another test worker) never sees half a file."""
    written = []
    for language in languages:
        po, mo = po_path(language, locale_dir), mo_path(language, locale_dir)
        if not po.is_file():
            raise CatalogueMissing(f"{po}: no such catalogue")
        if not force and not is_stale(language, locale_dir):
            continue
        data = mo_bytes(po)
        handle, temporary = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, mo)
        written.append(mo)
    return written


class NoFallback(gettext.NullTranslations):
    """The last fallback: a message id no catalogue has is an error, never shown as is."""

    def gettext(self, message: str) -> str:
        raise KeyError(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        raise KeyError(msgid1)


def load(language: str, locale_dir: Path = LOCALE_DIR) -> gettext.GNUTranslations:
    """A language's translations: its .mo, or (work tree) its .po compiled in memory when the
    .mo is missing or older. Chain its fallbacks with add_fallback; end them with NoFallback."""
    if not is_stale(language, locale_dir):
        with mo_path(language, locale_dir).open("rb") as compiled:
            translations = gettext.GNUTranslations(compiled)
    elif po_path(language, locale_dir).is_file():
        translations = gettext.GNUTranslations(io.BytesIO(mo_bytes(po_path(language, locale_dir))))
    else:
        raise CatalogueMissing(
            f"no message catalogue for {language!r} in {locale_dir}: "
            "run `python -m survey_core.messages.compile`"
        )
    return translations


# ---------------------------------------------------------------- checking the .po files


class Entry(Struct, frozen=True):
    """One message of one language: its text (a tuple for a plural message), its flags and the
    line it is on in the .po."""

    text: str | tuple[str, ...]
    plural: bool
    fuzzy: bool
    line: int


def placeholders(text: str | tuple[str, ...]) -> frozenset[str]:
    """The named fields of a str.format text ("{company}" -> company); every form of a plural."""
    texts = (text,) if isinstance(text, str) else text
    found: set[str] = set()
    for one in texts:
        for _, field, _, _ in string.Formatter().parse(one):
            if field is not None:
                found.add(field.split(".")[0].split("[")[0])
    return frozenset(found)


def entries(language: str, locale_dir: Path = LOCALE_DIR) -> dict[str, Entry]:
    """Every message of a language's .po by id."""
    found = {}
    for message in read_po(po_path(language, locale_dir)):
        if not message.id:
            continue  # the header
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string
        text = strings if isinstance(strings, str) else tuple(strings or ())
        found[key] = Entry(
            text=text,
            plural=message.pluralizable,
            fuzzy=message.fuzzy,
            line=message.lineno or 0,
        )
    return found


def problems(
    locale_dir: Path = LOCALE_DIR, languages: Iterable[str] = LANGUAGES, base: str = "en"
) -> list[str]:
    """Everything wrong with the catalogues, as "file:line: problem": a message missing in a
    language (against the union of all languages), an empty or fuzzy text, placeholders that
    differ from the base language's, a text str.format cannot read, a plural message in one
    language and not in another, and plural forms other than Finnish, Swedish and English use."""
    languages = tuple(languages)
    found: list[str] = []
    by_language: dict[str, Mapping[str, Entry]] = {}
    for language in languages:
        path = po_path(language, locale_dir)
        try:
            catalog = read_po(path)
        except OSError as error:
            found.append(f"{path}: cannot be read ({error.strerror})")
            continue
        except Exception as error:  # babel's PoFileError and friends: the file is malformed
            found.append(f"{path}: {error}")
            continue
        if catalog.plural_forms != PLURAL_FORMS:
            found.append(f"{path}: Plural-Forms must be {PLURAL_FORMS!r}")
        by_language[language] = entries(language, locale_dir)
    every_id = sorted({key for table in by_language.values() for key in table})
    reference = by_language.get(base, {})
    for language, table in by_language.items():
        path = po_path(language, locale_dir)
        for key in every_id:
            entry = table.get(key)
            if entry is None:
                found.append(f"{path}: {key}: missing")
                continue
            found.extend(_entry_problems(path, key, entry, reference.get(key)))
    return found


def _entry_problems(path: Path, key: str, entry: Entry, base: Entry | None) -> list[str]:
    where = f"{path}:{entry.line}: {key}"
    texts = (entry.text,) if isinstance(entry.text, str) else entry.text
    found = []
    if entry.fuzzy:
        found.append(f"{where}: marked fuzzy (not compiled): review it and remove the flag")
    if not all(texts):
        found.append(f"{where}: empty text")
    for text in texts:
        try:
            list(string.Formatter().parse(text))
        except ValueError as error:
            found.append(f"{where}: not a str.format text ({error})")
            return found
    if base is not None:
        if entry.plural != base.plural:
            found.append(f"{where}: plural here and not in the base language, or the other way")
        elif placeholders(entry.text) != placeholders(base.text):
            mine = ", ".join(sorted(placeholders(entry.text))) or "none"
            theirs = ", ".join(sorted(placeholders(base.text))) or "none"
            found.append(f"{where}: placeholders {{{mine}}} differ from the base's {{{theirs}}}")
    return found
