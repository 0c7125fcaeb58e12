"""One catalogue, French first, English complete; every error id has its sentence."""

from __future__ import annotations

import re
import string
from importlib import resources

import yaml

from auditor.errors import ALL_IDS, InputError
from auditor.i18n import LANGUAGES, catalogue


def test_every_message_has_every_language_and_the_same_fields() -> None:
    for key, entry in catalogue().items():
        assert set(entry) == set(LANGUAGES), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in LANGUAGES]
        assert fields[0] == fields[1], key
        assert all(entry[lang].strip() for lang in LANGUAGES), key


def test_every_error_id_has_a_message_and_is_kebab_case() -> None:
    for code in ALL_IDS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code)
        assert f"error.{code}" in catalogue(), code


def test_input_error_names_file_and_line_in_both_languages() -> None:
    error = InputError("csv-header-missing", "export.csv", 12)
    assert error.render("fr").startswith("export.csv, ligne 12 :")
    assert error.render("en").startswith("export.csv, line 12:")


def test_the_catalogue_reads_the_same_with_libyaml_as_in_pure_python() -> None:
    merged: dict[str, dict[str, str]] = {}
    for file in resources.files("auditor.locale").iterdir():
        if file.name.endswith(".yaml"):
            merged.update(yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
    assert catalogue() == merged
