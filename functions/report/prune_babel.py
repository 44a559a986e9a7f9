"""Babel's locale data, pruned to what the report formats in (run by this function's Makefile).

Babel ships CLDR data for about a thousand locales: babel/locale-data holds some 32 MB of
pickles, one per locale. Formatting needs only the locales of survey_core's
messages/formatting.BABEL_LOCALES (fi, sv, en_GB; LOCALES below, a unit test keeps the two the
same) and the ones they inherit from (en_001, en, root). Only the report function formats
numbers and dates, so only it ships Babel; its build removes every other locale's file:

    python3.13 prune_babel.py SITE_DIR     (SITE_DIR holds babel/)

It prints the size of babel/ before and after. Nothing here imports Babel: the installed copy's
own files are read, so the build's Python need not have Babel itself.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

# The CLDR locales the report formats in: survey_core.messages.formatting.BABEL_LOCALES.
LOCALES = ("fi", "sv", "en_GB")

LOCALE_DATA = Path("babel") / "locale-data"
GLOBAL_DATA = Path("babel") / "global.dat"


def parent_exceptions(site_dir: Path) -> Mapping[str, str]:
    """CLDR's parents that are not the name minus its last part (en_GB -> en_001)."""
    with (site_dir / GLOBAL_DATA).open("rb") as data:
        return dict(pickle.load(data).get("parent_exceptions", {}))  # noqa: S301 - see import


def inheritance(locale: str, exceptions: Mapping[str, str]) -> list[str]:
    """The locale and every locale it inherits data from, as babel.localedata.load walks them:
    en_GB -> [en_GB, en_001, en, root]."""
    chain = [locale]
    while chain[-1] != "root":
        name = chain[-1]
        parts = name.split("_")
        chain.append(exceptions.get(name) or ("root" if len(parts) == 1 else "_".join(parts[:-1])))
    return chain


def kept_locales(site_dir: Path, locales: Iterable[str] = LOCALES) -> set[str]:
    exceptions = parent_exceptions(site_dir)
    return {name for locale in locales for name in inheritance(locale, exceptions)}


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def prune(site_dir: Path, locales: Iterable[str] = LOCALES) -> tuple[int, int]:
    """Remove the locale data of every locale not needed; babel/'s bytes before and after."""
    babel_dir = site_dir / "babel"
    if not (site_dir / LOCALE_DATA).is_dir():
        raise FileNotFoundError(f"{site_dir / LOCALE_DATA}: no Babel installed there")
    before = tree_size(babel_dir)
    keep = kept_locales(site_dir, locales)
    for data in (site_dir / LOCALE_DATA).glob("*.dat"):
        if data.stem not in keep:
            data.unlink()
    data_dir = site_dir / LOCALE_DATA
    missing = sorted(name for name in keep if not (data_dir / f"{name}.dat").is_file())
    if missing:
        raise FileNotFoundError(f"{site_dir / LOCALE_DATA}: no data for {', '.join(missing)}")
    return before, tree_size(babel_dir)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3.13 prune_babel.py SITE_DIR", file=sys.stderr)
        return 2
    before, after = prune(Path(argv[0]))
    kept = ", ".join(sorted(kept_locales(Path(argv[0]))))
    print(f"babel: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB (locale data kept: {kept})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
