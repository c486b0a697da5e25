"""README.md's "Quick start" and .ci/run agree: CI installs and tests exactly as the README says.

The Quick start block holds two commands: install and read an example photo, then install the
test extras and run the tests. .ci/run must run every `&&`-separated part of the second, in order,
and end with its test command; the example photo the first reads must exist.
"""
import os
import re
import shlex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def quick_start_commands(readme: str) -> list[str]:
    """The commands (non-empty, non-comment lines) of the first ```sh block under "## Quick start"."""
    section = re.search(r"^## Quick start\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert section, 'README.md has no "## Quick start" section'
    block = re.search(r"^```sh\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, 'README.md\'s "Quick start" has no ```sh block'
    return [line.strip() for line in block.group(1).splitlines()
            if line.strip() and not line.strip().startswith("#")]


def script_commands(script: str) -> list[list[str]]:
    """The commands of a shell script as token lists: comment and blank lines left out, lines
    continued with a backslash joined."""
    commands, pending = [], ""
    for line in script.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        commands.append(shlex.split(pending + stripped))
        pending = ""
    return commands


def parts(command: str) -> list[list[str]]:
    """The `&&`-separated parts of one command line, as token lists."""
    return [shlex.split(part) for part in command.split("&&")]


def drift(readme: str, ci_run: str, root: str = ROOT) -> list[str]:
    """What is wrong between the README's Quick start and .ci/run (empty: they agree)."""
    problems = []
    commands = quick_start_commands(readme)
    if len(commands) != 2:
        return [f"Quick start has {len(commands)} commands, expected 2 (install and read; test): {commands}"]
    install_and_read, test = commands
    ci = script_commands(ci_run)
    at = -1
    for part in parts(test):
        later = [i for i, c in enumerate(ci) if c == part and i > at]
        if not later:
            where = "at all" if part not in ci else "after the previous part"
            problems.append(f".ci/run does not run {shlex.join(part)!r} {where} (README: {test!r})")
        else:
            at = later[0]
    if not ci or ci[-1] != parts(test)[-1]:
        problems.append(f".ci/run's last command is {shlex.join(ci[-1]) if ci else None!r}, "
                        f"expected the README's test command {shlex.join(parts(test)[-1])!r}")
    reads = [p for p in parts(install_and_read) if p[:2] == ["edgedigits", "read"]]
    paths = [arg for p in reads for arg in p[2:] if not arg.startswith("-")]
    if not paths:
        problems.append(f"the first Quick start command reads no photo: {install_and_read!r}")
    problems += [f"the Quick start reads {path}, which is not in the repository"
                 for path in paths if not os.path.isfile(os.path.join(root, path))]
    return problems


def test_ci_runs_the_readme_quick_start():
    assert drift(read("README.md"), read(".ci/run")) == []


def test_drift_is_caught():
    """Altered copies of the real files (never the files themselves) are told apart."""
    readme, ci_run = read("README.md"), read(".ci/run")
    test = quick_start_commands(readme)[1]
    install, pytest_cmd = (part.strip() for part in test.split("&&"))
    cases = {
        "README test command changed": (readme.replace(test, test + " -x"), ci_run),
        "CI test command changed": (readme, ci_run.replace("\n" + pytest_cmd, "\n" + pytest_cmd + " -k fast")),
        "CI install left out": (readme, ci_run.replace("\n" + install + "\n", "\n# " + install + "\n")),
        "CI steps out of order": (readme, ci_run.replace("\n" + install + "\n", "\n")
                                  .replace("\n" + pytest_cmd, "\n" + pytest_cmd + "\n" + install)),
        "CI runs more after the tests": (readme, ci_run + "echo done\n"),
        "a third Quick start command": (readme.replace(test, test + "\nedgedigits info"), ci_run),
        "the example photo renamed": (readme.replace("examples/example-1.jpg", "examples/example-9.jpg"),
                                      ci_run),
    }
    for name, (r, c) in cases.items():
        assert (r, c) != (readme, ci_run), f"{name}: the copy was not altered"
        assert drift(r, c), name
