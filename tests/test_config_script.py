"""The `falyx` script: config discovery, the full CLI of a config, `init`, `check`, `schema`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from falyx.config.discovery import ConfigNotFound, find_config
from falyx.config.starter import FILES
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow

FORMATS = Path(__file__).parent / "configs" / "formats"
BAD = Path(__file__).parent / "configs" / "bad"
MINIMAL = "commands:\n  - {key: A, description: Answer, action: 'builtins:print'}\n"


def falyx(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`falyx ARGS` (the console script's code, run as `python -m falyx`) in `cwd`."""
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        [sys.executable, "-m", "falyx", *args], cwd=cwd, capture_output=True, text=True,
        env=subprocess_env(PATH=bin_dir + os.pathsep + os.environ["PATH"], **env),
        timeout=60, stdin=subprocess.DEVNULL)


# -- discovery ------------------------------------------------------------------------------
def test_discovery_prefers_the_option_then_the_environment_then_the_nearest_folder(
    tmp_path: Path,
) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "falyx.toml").write_text("")
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.falyx]\ntitle = 'x'\n")
    (tmp_path / "other.yaml").write_text("")
    assert find_config(None, {}, nested) == tmp_path / "a" / "pyproject.toml"
    assert find_config(None, {"FALYX_CONFIG": "../../other.yaml"}, nested) == (
        nested / "../../other.yaml")
    assert find_config("../..", {"FALYX_CONFIG": "x"}, nested) == nested / "../../falyx.toml"


def test_a_pyproject_without_the_table_is_skipped_and_yaml_comes_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "falyx-like"\n')
    (tmp_path / "falyx.toml").write_text("")
    assert find_config(None, {}, tmp_path) == tmp_path / "falyx.toml"
    (tmp_path / "falyx.yml").write_text("")
    assert find_config(None, {}, tmp_path) == tmp_path / "falyx.yml"


def test_no_config_is_one_line_saying_where_it_looked_and_suggesting_init(tmp_path: Path) -> None:
    done = falyx("run", "R", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "Error: no falyx config found: looked for falyx.yaml, falyx.yml, falyx.toml or a "
        f"pyproject.toml with [tool.falyx] in {tmp_path} and each parent folder; create one "
        "with 'falyx init' (or pass -c PATH)\n")
    assert falyx(cwd=tmp_path).returncode == 2
    with pytest.raises(ConfigNotFound, match=r"no such config file: nope\.yaml"):
        find_config("nope.yaml", {}, tmp_path)


@pytest.mark.parametrize(("args", "env", "source"), [
    (["check", "{path}"], {}, "the PATH argument of 'falyx check'"),
    (["-c", "{path}", "check"], {}, "-c"),
    (["--config", "{path}", "help"], {}, "--config"),
    (["--config={path}", "run", "A"], {}, "--config"),
    (["help"], {"FALYX_CONFIG": "{path}"}, "$FALYX_CONFIG"),
    (["check"], {"FALYX_CONFIG": "{path}"}, "$FALYX_CONFIG"),
    (["-c", "ops.yaml", "check", "{path}"], {}, "the PATH argument of 'falyx check'"),
])
@pytest.mark.parametrize("missing", ["nonexist", "empty_folder"])
def test_a_path_that_names_no_config_says_where_it_came_from(
        tmp_path: Path, args: list[str], env: dict[str, str], source: str, missing: str) -> None:
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "ops.yaml").write_text(MINIMAL)
    fill = {k: v.replace("{path}", missing) for k, v in env.items()}
    done = falyx(*(a.replace("{path}", missing) for a in args), cwd=tmp_path, **fill)
    assert done.returncode == 2
    if missing == "nonexist":
        assert done.stderr == f"Error: no such config file: nonexist (from {source})\n"
    else:
        assert done.stderr.startswith(
            f"Error: no falyx config in {tmp_path / missing} (from {source}): looked for ")
        assert done.stderr.endswith(f"; create one with 'falyx init {missing}'\n")


def test_help_and_version_work_without_a_config(tmp_path: Path) -> None:
    usage = falyx("--help", cwd=tmp_path)
    assert usage.returncode == 0 and "falyx init [DIR]" in usage.stdout
    assert falyx("--version", cwd=tmp_path).stdout.startswith("falyx ")


# -- a config's CLI -------------------------------------------------------------------------
def test_the_config_found_is_served_as_the_full_cli(tmp_path: Path) -> None:
    shutil.copy(FORMATS / "falyx.yaml", tmp_path)
    shutil.copy(FORMATS / "fmt_tasks.py", tmp_path)
    nested = tmp_path / "docs"
    nested.mkdir()
    run = falyx("run", "r", "-y", "--target", "qa", "--json", cwd=nested)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["result"] == "deployed"
    assert falyx("build", "--target", "qa", "--replicas", "2", cwd=nested).returncode == 0
    failed = falyx("failing", "--json", cwd=nested)
    assert failed.returncode == 1 and json.loads(failed.stdout)["status"] == "ERROR"
    preview = falyx("preview", "R", cwd=nested)
    assert preview.returncode == 0 and "⛓ ChainedAction 'release'" in preview.stderr
    assert "Build the image" in falyx("help", cwd=nested).stdout + falyx("help", cwd=nested).stderr
    assert falyx("run-all", "-t", "ci", "-y", cwd=nested).returncode == 0
    assert falyx("--version", cwd=nested).stdout.strip() == "release 2.1"
    history = falyx("--history", str(tmp_path / "h.db"), "run", "B", "-y", cwd=nested)
    assert history.returncode == 0, history.stderr
    listed = falyx("--history", str(tmp_path / "h.db"), "history", "--json", cwd=nested)
    assert json.loads(listed.stdout)[-1]["command"] == "B"
    unknown = falyx("run", "RR", cwd=nested)
    assert unknown.returncode == 2 and "did you mean 'R'?" in unknown.stderr


def test_config_option_and_environment_choose_the_file(tmp_path: Path) -> None:
    (tmp_path / "ops.yaml").write_text(MINIMAL)
    by_option = falyx("-c", "ops.yaml", "run", "A", "-y", cwd=tmp_path)
    assert by_option.returncode == 0, by_option.stderr
    by_option_after_globals = falyx("-v", "--config=ops.yaml", "help", cwd=tmp_path)
    assert by_option_after_globals.returncode == 0, by_option_after_globals.stderr
    by_env = falyx("run", "A", "-y", cwd=tmp_path, FALYX_CONFIG=str(tmp_path / "ops.yaml"))
    assert by_env.returncode == 0, by_env.stderr


def test_a_python_file_is_still_run_as_a_python_app(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text("not: [valid")  # never read for FILE.py
    done = falyx(str(ROOT / "examples" / "decorators.py"), "build", "--target", "qa",
                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "built qa"


def test_a_python_apps_help_through_the_script_loads_no_config_library() -> None:
    probe = ("import json, sys\nfrom falyx.__main__ import main\nfile = sys.argv[1]\n"
             "try:\n    main([file, '--help'])\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('MODULES ' + json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", probe, str(ROOT / "examples" / "simple.py")],
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    line = done.stderr.rsplit("MODULES ", 1)[1]
    loaded = {m.split(".")[0] for m in json.loads(line)}
    assert "typer" in loaded
    assert loaded.isdisjoint({"yaml", "msgspec", "pydantic"})
    assert "falyx.config" not in json.loads(line)


# -- init, check, schema --------------------------------------------------------------------
def test_init_writes_a_project_that_runs_and_checks(tmp_path: Path) -> None:
    made = falyx("init", "proj", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = tmp_path / "proj"
    assert sorted(p.name for p in project.iterdir()) == ["falyx.yaml", "tasks.py"]
    run = falyx("run", "R", "-y", cwd=project)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == ["building dev", "tests passed"]
    assert sorted(lines[2:4]) == ["lint ok", "types ok"]  # the group runs concurrently
    assert lines[4:] == ["published"]
    check = falyx("check", cwd=project)
    assert (check.returncode, check.stdout) == (0, "OK: 4 commands\n")


def _suggested(message: str) -> list[str]:
    """The commands `init` suggests, each as a shell line to run where init ran."""
    found = re.fullmatch(r"Wrote falyx\.yaml and tasks\.py(?: in .+)?\. Try: (.+)\n", message)
    assert found, message
    moved = re.fullmatch(r"cd (.+) && (falyx help) \(then, there: (.+)\)", found[1])
    if moved is None:
        return found[1].split(", ")
    return [f"cd {moved[1]} && {command}" for command in [moved[2], *moved[3].split(", ")]]


@pytest.mark.parametrize("folder", [None, ".", "demo", "two words/deeper", "{tmp}/elsewhere",
                                    "{tmp}"])
def test_the_commands_init_suggests_work_from_where_it_ran(
        tmp_path: Path, folder: str | None) -> None:
    target = folder.replace("{tmp}", str(tmp_path)) if folder else None
    made = falyx("init", *([target] if target else []), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert ("cd " in made.stderr) == (folder not in (None, ".", "{tmp}"))
    bin_dir = str(Path(sys.executable).parent)  # `falyx` is the console script beside python
    for line in _suggested(made.stderr):
        done = subprocess.run(["/bin/sh", "-c", line], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL,
                              env=subprocess_env(PATH=bin_dir + os.pathsep + os.environ["PATH"]))
        assert done.returncode == 0, (line, done.stderr)


def test_init_shows_a_retry_a_shell_step_a_chain_with_rollback_and_a_group() -> None:
    config = FILES["falyx.yaml"]
    for text in ("retry:", "run:", "chain:", "rollback:", "group:"):
        assert text in config


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text("# mine\n")
    done = falyx("init", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "Error: tasks.py already exists; not overwriting it\n"
    assert (tmp_path / "tasks.py").read_text() == "# mine\n"
    assert not (tmp_path / "falyx.yaml").exists()


def test_check_prints_ok_with_the_command_count(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text(MINIMAL)
    done = falyx("check", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "OK: 1 command\n", "")
    other = falyx("check", str(FORMATS / "falyx.toml"), cwd=tmp_path)
    assert (other.returncode, other.stdout) == (0, "OK: 7 commands\n"), other.stderr


def test_check_imports_refs_without_running_any_step(tmp_path: Path) -> None:
    (tmp_path / "side.py").write_text(
        "from pathlib import Path\n\ndef touch():\n    Path('ran').write_text('x')\n")
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n  - {key: T, description: Touch, action: 'side:touch'}\n")
    assert falyx("check", cwd=tmp_path).returncode == 0
    assert not (tmp_path / "ran").exists()


def _schema_validator():
    import jsonschema

    done = falyx("schema", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_accepts_inits_file_and_every_example_and_refuses_bad_ones() -> None:
    import yaml

    validator = _schema_validator()
    good = [yaml.safe_load(FILES["falyx.yaml"])]
    good += [yaml.safe_load(p.read_text()) for p in ROOT.glob("examples/**/*.yaml")]
    good += [yaml.safe_load((FORMATS / "falyx.yaml").read_text())]
    assert len(good) >= 3
    for document in good:
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == []
    for name in ("two_bodies.yaml", "no_body.yaml", "unknown_field.yaml",
                 "negative_retry_delay.yaml", "missing_key.yaml", "wrong_type_step.yaml"):
        document = yaml.safe_load((BAD / name).read_text())
        assert list(validator.iter_errors(document)), name


def test_shell_completion_of_the_script_offers_the_configs_keys(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text(MINIMAL + "  - {key: B, description: Build, "
                                                   "action: 'builtins:print'}\n")
    done = falyx(cwd=tmp_path, _FALYX_COMPLETE="complete_bash", COMP_WORDS="falyx run ",
                 COMP_CWORD="2")
    assert done.stdout.split() == ["A", "B"]


def test_the_menu_of_a_config_runs_commands_and_opens_its_submenus(tmp_path: Path) -> None:
    from tests.test_menu_pty import PROMPT, Terminal

    (tmp_path / "falyx.yaml").write_text(
        "title: Config menu\ncommands:\n"
        "  - {key: A, description: Answer, action: 'menu_tasks:answer'}\n"
        "submenus:\n  - {key: O, description: Ops, config: ops.yaml}\n")
    (tmp_path / "ops.yaml").write_text(
        "title: Ops menu\ncommands:\n"
        "  - {key: S, description: Status, action: 'menu_tasks:status'}\n")
    (tmp_path / "menu_tasks.py").write_text(
        "def answer():\n    print('forty-two')\n\ndef status():\n    print('all green')\n")
    state = tmp_path / "state"
    state.mkdir()
    # `python -m falyx -c FILE --menu` in a pty
    term = Terminal(Path("-m"), state, "falyx", "-c", str(tmp_path / "falyx.yaml"), "--menu")
    term.expect("Config menu", "[O] Ops ▸", PROMPT)
    term.type("a\r")
    term.expect("forty-two", PROMPT)
    term.type("o\r")
    term.expect("Ops menu", "[B] Back", "ops >")
    term.type("s\r")
    term.expect("all green", "ops >")
    term.type("X\r")
    assert term.exit_status() == 0


def test_a_process_step_runs_in_a_real_worker_process(tmp_path: Path) -> None:
    (tmp_path / "proc_tasks.py").write_text(
        "import os\n\ndef where(n: int = 1) -> list:\n    return [os.getpid(), n * n]\n")
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n  - {key: P, description: Square, process: 'proc_tasks:where'}\n")
    cli = subprocess.Popen([sys.executable, "-m", "falyx", "run", "P", "--n", "7", "--json"],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=subprocess_env())
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    pid, square = json.loads(out)["result"]
    assert square == 49 and pid != cli.pid  # computed in a worker, not in the CLI process
