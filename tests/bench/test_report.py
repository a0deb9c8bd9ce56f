"""The results page and the start-up cost of the operator commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import report


def test_results_page_ends_with_gaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "RESULTS.md"
    monkeypatch.setattr(report, "PAGE", page)

    report.write_results_page()

    text = page.read_text()
    assert text.rstrip().endswith(report.GAPS.read_text().rstrip())
    assert "## Targets not met, and why" in text


def test_cli_start_skips_application() -> None:
    code = (
        "import sys, maizeplus.cli.main; "
        "print(sorted(m for m in ('maizeplus.app', 'fastapi', 'maizeplus.jobs.worker')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert "maizeplus.app" not in loaded
    assert "maizeplus.jobs.worker" not in loaded
