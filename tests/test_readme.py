"""CI installs exactly as the README says: the command in ``.ci/run`` is the README's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ci_commands() -> list[str]:
    """The command lines ``.ci/run`` executes (not comments, shell options or ``cd``)."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [
        line.strip()
        for line in lines
        if line.strip()
        and not line.lstrip().startswith("#")
        and not re.match(r"(set|cd)\b", line.strip())
    ]


def readme_code() -> list[str]:
    """Every line inside the README's fenced code blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()]


def test_ci_runs_the_readme_install_and_test_command_verbatim() -> None:
    commands = ci_commands()
    assert commands, ".ci/run runs nothing"
    install_and_test = [c for c in commands if "pip install" in c and "pytest" in c]
    assert install_and_test, f"no install+test command in .ci/run: {commands}"
    code = readme_code()
    for command in install_and_test:
        assert command in code, f"README.md does not show this .ci/run command verbatim: {command}"


def test_ci_installs_the_test_extra_and_runs_the_whole_suite() -> None:
    (command,) = [c for c in ci_commands() if "pip install" in c and "pytest" in c]
    assert "'.[test]'" in command or '".[test]"' in command
    assert re.search(r"python -m pytest(\s|$)", command)
    assert "tests/" not in command.split("pytest", 1)[1]  # the whole suite, not a part of it


def test_test_pins_are_consistent() -> None:
    """pytest-textual-snapshot 1.1.0 pins syrupy 4.8.0, which needs pytest < 9."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test = extras["project"]["optional-dependencies"]["test"]
    pins = {re.split(r"[=<>!~]", dep, maxsplit=1)[0].strip().lower(): dep for dep in test}
    if pins.get("pytest-textual-snapshot", "").endswith("==1.1.0"):
        assert re.fullmatch(r"pytest==8\.4\.\d+", pins["pytest"].replace(" ", "")), pins["pytest"]
        assert pins.get("syrupy", "syrupy==4.8.0").replace(" ", "") == "syrupy==4.8.0"
