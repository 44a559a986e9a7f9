"""Render every survey message to files, for a person to look at (and for CI to prove that
every template renders).

For each survey in the catalogue, each language (fi, sv, en) and each of the survey's metrics:
the email of every kind (invitation, reminder, last reminder) as HTML and as plain text (with
its subject), and the SMS of each kind with its size in segments. index.html lists them all.

    python -m tools.preview_messages [--out .preview] [--base-url URL]   (make preview)

The default base URL is an API Gateway URL, the longest link the stack sends without a custom
domain, so the SMS sizes shown are the worst case. Exit status 0 when everything rendered;
any template error stops it with status 1.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.catalogue import LANGUAGES, Catalogue, load_catalogue
from survey_core.messages.rendering import MESSAGE_KINDS, render_invitation_email, render_sms

DEFAULT_BASE_URL = "https://a1b2c3d4e5.execute-api.eu-north-1.amazonaws.com/prod"
SAMPLE_TOKEN = "AbCdEfGhIjKlMnOpQrStUv"  # noqa: S105 - a sample link token (22 characters)
SMS_KINDS = ("invitation", "reminder")  # the SMS has no separate last-reminder wording


@dataclass(frozen=True)
class Rendered:
    survey: str
    language: str
    metric: str
    kind: str
    channel: str
    files: tuple[str, ...]  # relative to the output folder
    summary: str  # the subject, or the SMS size


def render_all(catalogue: Catalogue, out: Path, base_url: str) -> list[Rendered]:
    survey_url = f"{base_url}/s/{SAMPLE_TOKEN}"
    unsubscribe_url = f"{base_url}/u/{SAMPLE_TOKEN}"
    rendered = []
    for survey in catalogue.surveys:
        for language in LANGUAGES:
            for metric in survey.metrics:
                folder = Path(survey.id, language, metric)
                (out / folder).mkdir(parents=True, exist_ok=True)
                question = survey.question(metric, language, catalogue.company)
                for kind in MESSAGE_KINDS:
                    email = render_invitation_email(
                        language=language,
                        metric=metric,
                        question=question,
                        company=catalogue.company,
                        survey_url=survey_url,
                        unsubscribe_url=unsubscribe_url,
                        kind=kind,
                    )
                    page, text = folder / f"email-{kind}.html", folder / f"email-{kind}.txt"
                    (out / page).write_text(email.html, encoding="utf-8")
                    (out / text).write_text(
                        f"Subject: {email.subject}\n\n{email.text}", encoding="utf-8"
                    )
                    rendered.append(
                        Rendered(
                            survey.id,
                            language,
                            metric,
                            kind,
                            "email",
                            (str(page), str(text)),
                            email.subject,
                        )
                    )
                for kind in SMS_KINDS:
                    sms = render_sms(
                        language=language,
                        company=catalogue.company,
                        metric=metric,
                        survey_url=survey_url,
                        kind=kind,
                    )
                    path = folder / f"sms-{kind}.txt"
                    (out / path).write_text(sms.text, encoding="utf-8")
                    size = (
                        f"{sms.size.encoding}, {sms.size.units} units, "
                        f"{sms.size.segments} segment(s)"
                    )
                    rendered.append(
                        Rendered(survey.id, language, metric, kind, "sms", (str(path),), size)
                    )
    return rendered


def write_index(rendered: list[Rendered], out: Path) -> Path:
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (r.survey, r.language, r.metric, r.channel, r.kind)
        )
        + "<td>"
        + " ".join(
            f'<a href="{html.escape(f)}">{html.escape(Path(f).suffix[1:])}</a>' for f in r.files
        )
        + f"</td><td>{html.escape(r.summary)}</td></tr>"
        for r in rendered
    )
    index = out / "index.html"
    index.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Survey messages</title>'
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head>"
        "<body><h1>Survey messages</h1><table><tr><th>Survey</th><th>Language</th><th>Metric</th>"
        f"<th>Channel</th><th>Kind</th><th>Files</th><th>Subject / size</th></tr>\n{rows}\n"
        "</table></body></html>\n",
        encoding="utf-8",
    )
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(".preview"), help="output folder")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="base of the survey links")
    args = parser.parse_args(argv)
    try:
        rendered = render_all(load_catalogue(), args.out, args.base_url.rstrip("/"))
    except Exception as error:  # a template or catalogue error: say which, fail the build
        print(f"preview failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    index = write_index(rendered, args.out)
    long_sms = [r for r in rendered if r.channel == "sms" and "1 segment" not in r.summary]
    emails = sum(r.channel == "email" for r in rendered)
    print(f"{emails} emails and {len(rendered) - emails} SMS rendered; open {index}")
    for r in long_sms:
        print(f"  longer than one SMS segment: {r.files[0]} ({r.summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
