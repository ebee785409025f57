"""An import commit's subject: the files, and the label of who asked for it."""

from __future__ import annotations

import pytest

from importers.importing import import_action, imported_files


@pytest.mark.parametrize("names, label", [
    (["aug.xml"], None),
    (["jul.xml", "aug.xml"], "web batch 12"),
    (["statement (1).xml"], "web batch 3"),
    (["statement (1).xml"], None),
])
def test_the_files_read_back_from_the_subject(names, label):
    subject = import_action(names, label)
    assert subject == f"import {' '.join(names)}" + (f" ({label})" if label else "")
    assert imported_files(subject) == " ".join(names)
