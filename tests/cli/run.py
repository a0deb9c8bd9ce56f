"""Running the installed ``maizeplus`` entry point against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MAIZEPLUS = Path(sys.executable).parent / "maizeplus"
COMMAND_TIMEOUT_SECONDS = 120


def run_maizeplus(
    database_url: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run ``maizeplus ARGUMENTS`` in a subprocess on ``database_url``."""
    environment = {
        **os.environ,
        "MAIZEPLUS_DATABASE_URL": database_url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(MAIZEPLUS), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
