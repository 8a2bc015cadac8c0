"""The `pal` command run in a folder (the demo's, usually), as a user runs it: its result, or
its `--json` output read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PAL = Path(sys.executable).with_name("pal")


def run_pal(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PAL), *args], cwd=folder, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def pal_json(folder: Path, *args: str) -> Any:
    return json.loads(run_pal(folder, *args, "--json").stdout)
