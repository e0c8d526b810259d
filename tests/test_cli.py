"""The console script: --help, --version, sub-commands listed; unbuilt commands say so."""

from __future__ import annotations

import subprocess
import sys

import pytest

from haineifrdm import __version__
from haineifrdm.cli.main import COMMANDS, main

EXPECTED = {"restore", "demo", "degrade", "train", "eval", "export", "bench", "serve",
            "install-ofx", "compare"}


def test_all_subcommands_registered() -> None:
    assert {c.name for c in COMMANDS} == EXPECTED


def test_version_and_help_from_console_script() -> None:
    out = subprocess.run([sys.executable, "-m", "haineifrdm.cli.main", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"haineifrdm {__version__}"
    helptext = subprocess.run([sys.executable, "-m", "haineifrdm.cli.main", "--help"],
                              capture_output=True, text=True, check=True).stdout
    for name in EXPECTED:
        assert name in helptext


def test_unknown_command_exits_nonzero() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
