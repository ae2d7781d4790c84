"""The CI workflow example stays true: it is valid YAML and every kit command in it parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conformance.cli import _parser

WORKFLOW = Path(__file__).parents[2] / "examples" / "ci" / "conformance.yml"
VALUES = {"matrix.name": "cpu-torch", "matrix.frameworks": "numpy,torch", "matrix.devices": "cpu"}


def _commands() -> list[list[str]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = re.sub(r"\\\n\s*", " ", step.get("run", ""))
            script = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: VALUES.get(m.group(1), "x"), script)
            for line in script.splitlines():
                words = shlex.split(line.split("||")[0].split(">>")[0])
                if "conformance" in words and "-m" in words and words.index("-m") + 1 == words.index("conformance"):
                    commands.append(words[words.index("conformance") + 1:])
    return commands


def test_the_workflow_runs_each_kit_command():
    verbs = {words[0] for words in _commands()}
    assert verbs == {"run", "repro", "matrix", "compare"}


@pytest.mark.parametrize("words", _commands(), ids=lambda w: " ".join(w[:2]))
def test_each_kit_command_in_the_workflow_parses(words):
    args = _parser().parse_args(words)  # exits (SystemExit) on an unknown option
    assert args.command == words[0]
