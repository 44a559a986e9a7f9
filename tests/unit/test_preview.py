"""The preview renders every survey message: CI fails here on any template error."""

from pathlib import Path

import pytest
from survey_core.catalogue import LANGUAGES, load_catalogue
from survey_core.messages.rendering import MESSAGE_KINDS

from tools.preview_messages import SMS_KINDS, main

pytestmark = pytest.mark.unit


def test_every_email_and_sms_of_every_survey_language_and_metric_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    catalogue = load_catalogue()
    combinations = [
        (survey.id, language, metric)
        for survey in catalogue.surveys
        for language in LANGUAGES
        for metric in survey.metrics
    ]
    for survey, language, metric in combinations:
        folder = tmp_path / survey / language / metric
        for kind in MESSAGE_KINDS:
            page = (folder / f"email-{kind}.html").read_text(encoding="utf-8")
            assert page.startswith("<!DOCTYPE html>") and f'lang="{language}"' in page
            assert (
                (folder / f"email-{kind}.txt").read_text(encoding="utf-8").startswith("Subject: ")
            )
        for kind in SMS_KINDS:
            assert "/s/" in (folder / f"sms-{kind}.txt").read_text(encoding="utf-8")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    emails, sms = len(combinations) * len(MESSAGE_KINDS), len(combinations) * len(SMS_KINDS)
    assert index.count("<tr><td>") == emails + sms
    # The shipped texts fit one SMS segment even with the API Gateway URL.
    assert (
        capsys.readouterr().out
        == f"{emails} emails and {sms} SMS rendered; open {tmp_path / 'index.html'}\n"
    )


def test_a_template_error_fails_the_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A template that reads a variable nobody passes: StrictUndefined makes that an error.
    # (Patched in the globals the preview's renderer really uses: the integration tests load
    # fresh copies of survey_core, so the module by that name may be another copy.)
    from jinja2 import ChoiceLoader, DictLoader

    import tools.preview_messages as preview

    renderer_globals = preview.render_invitation_email.__globals__
    environment = renderer_globals["_ENV"]
    broken = DictLoader({"invitation_email.txt": "{{ question }} {{ no_such_value }}"})
    overlay = environment.overlay(loader=ChoiceLoader([broken, environment.loader]))
    monkeypatch.setitem(renderer_globals, "_ENV", overlay)
    assert main(["--out", str(tmp_path)]) == 1
    assert "preview failed: UndefinedError: 'no_such_value' is undefined" in capsys.readouterr().err
