"""Set up qunbot's environment from the lock file and run the demo, the tests or the benchmarks.

Only the standard library is used here, so this runs on a bare Python 3.11:

    python3 dev.py simulate     # the real bot against the built-in fake Telegram
    python3 dev.py test         # ruff, mypy and pytest
    python3 dev.py bench        # every benchmark, one JSON object per line

The environment lives in `.venv/` and is rebuilt whenever `requirements.lock` changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / "qunbot-lock.sha256"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    """Create `.venv` from the lock file unless it already matches the lock."""
    digest = lock_digest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest:
        return
    print("qunbot: building .venv from requirements.lock (first run only)", file=sys.stderr)
    if VENV.exists():
        shutil.rmtree(VENV)
    venv.create(VENV, with_pip=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCK)])
    run([*pip, "--no-deps", "--no-build-isolation", "--editable", str(ROOT)])
    STAMP.write_text(digest)


def run(argv: list[str]) -> None:
    completed = subprocess.run(argv, cwd=ROOT, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def tool(name: str) -> str:
    return str(BIN / name)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"simulate", "test", "bench", "setup"}:
        sys.exit("usage: python3 dev.py simulate [SCRIPT] | test [PYTEST ARGS] | bench | setup")
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "simulate":
        run([tool("qunbot"), "simulate", *rest])
    elif command == "test":
        run([tool("ruff"), "check", "."])
        run([tool("ruff"), "format", "--check", "."])
        run([tool("mypy")])
        run([tool("python"), "-m", "pytest", *rest])
    elif command == "bench":
        run([tool("python"), "-m", "bench", "all", *rest])


if __name__ == "__main__":
    main(sys.argv[1:])
