"""The documentation: docs/model.md holds every section the code points to, and the site with
its API reference (mkdocs + mkdocstrings, from the docstrings) builds offline in strict mode
(a warning, such as a docstring whose parameters do not match its signature, fails it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "docs" / "model.md"
REFERENCE = re.compile(r'docs/model\.md,\s+"([^"]+)"(?:\s+and\s+"([^"]+)")?')


def _headings() -> set[str]:
    return {line.lstrip("#").strip() for line in MODEL.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")}


def test_every_reference_to_the_model_names_a_section():
    """Docstrings, docs and examples cite docs/model.md by section title; every title cited
    is a heading of docs/model.md (the repository has no docs/model.md to point to)."""
    headings = _headings()
    cited: dict[str, list[str]] = {}
    files = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("src").rglob("*.toml"),
             *ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"]
    for path in files:
        text = " ".join(path.read_text(encoding="utf-8").split())
        for m in REFERENCE.finditer(text):
            for title in filter(None, m.groups()):
                cited.setdefault(title, []).append(str(path.relative_to(ROOT)))
    assert cited, "no references found"
    missing = {t: where for t, where in cited.items() if t not in headings}
    assert not missing, missing


def test_the_model_page_has_the_contract_and_the_decisions():
    text = MODEL.read_text(encoding="utf-8")
    for heading in ("The game", "Agents", "Budgets", "The crypto layer", "Solution concepts",
                    "The certificate", "Markups: market power and scarcity", "Welfare",
                    "Economy files", "The JSON contract", "Extensions"):
        assert heading in _headings(), heading
    assert text.count("**Decision") >= 8
    for measure in ("Equivalent variation", "Consumer surplus", "Deadweight loss",
                    "scarcity rent"):
        assert measure.lower() in text.lower(), measure


def test_site_and_api_reference_build_strictly(tmp_path):
    pytest.importorskip("mkdocstrings_handlers.python")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    page = (tmp_path / "site" / "api" / "results" / "index.html").read_text(encoding="utf-8")
    assert "to_frame" in page and "Solution" in page
    model = (tmp_path / "site" / "model" / "index.html").read_text(encoding="utf-8")
    assert "The JSON contract" in model
