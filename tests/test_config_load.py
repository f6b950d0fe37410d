"""`falyx.config.load`: the same registry from YAML, TOML and pyproject.toml, every field."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Falyx, HookType, RetryPolicy
from falyx.action import ActionGroup, ChainedAction, ProcessAction
from falyx.config import ConfigFileError, load
from falyx.config.source import read_document
from falyx.testing import run_cli

FORMATS = Path(__file__).parent / "configs" / "formats"
FILES = [FORMATS / "falyx.yaml", FORMATS / "falyx.toml", FORMATS / "pyproject.toml"]


@pytest.fixture(autouse=True)
def _restored_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.fixture
def events() -> Iterator[list[str]]:
    sys.path.insert(0, str(FORMATS))
    import fmt_tasks

    fmt_tasks.EVENTS.clear()
    yield fmt_tasks.EVENTS
    fmt_tasks.EVENTS.clear()


def _surface(app: Falyx) -> dict[str, object]:
    """What a user sees of an app: previews, `help`, `--help` and each command's `--help`."""
    out: dict[str, object] = {"title": app.title, "program": app.program,
                              "version": app.version, "history": app.history}
    for key, command in app.commands.items():
        out[f"preview {key}"] = command.preview().lines()
    for args in (["help"], ["--help"], *([c.cli_name, "--help"] for c in app.commands.values())):
        result = run_cli(app, args)
        assert result.exit_code == 0, result.output
        out[" ".join(args)] = result.output
    return out


def test_the_same_workflow_in_yaml_toml_and_pyproject_builds_the_same_registry() -> None:
    yaml_app, toml_app, pyproject_app = (load(f) for f in FILES)
    assert list(yaml_app.commands) == ["B", "C", "R", "F", "P", "S", "U"]
    reference = _surface(yaml_app)
    assert _surface(toml_app) == reference
    assert _surface(pyproject_app) == reference
    assert "Build the image" in str(reference["help"])


def test_command_options_reach_the_registered_command() -> None:
    app = load(FILES[0])
    release, failing, square = app.commands["R"], app.commands["F"], app.commands["P"]
    assert (app.title, app.program, app.version, app.history) == (
        "Release tools", "release", "2.1", "off")
    assert release.confirm and release.spinner and not release.preview_before_confirm
    assert release.confirmation_text == "Really release?"
    assert release.retry_all and release.leaf_policy == RetryPolicy(max_retries=1)
    assert release.action.retry_policy is None  # retry_all: the policy is for the leaves
    assert failing.hidden and not failing.record_result and failing.cli_name == "failing"
    assert square.help_text == "Squares a number in another worker." and square.style == "cyan"
    assert app.get("mk") is app.commands["B"]
    assert [c.cli_name for c in app.commands.values()] == [
        "build", "checks", "release", "failing", "square", "service", "uptime"]


def test_steps_are_built_with_their_options() -> None:
    app = load(FILES[0])
    build = app.commands["B"].action
    assert build.retry_policy == RetryPolicy(max_retries=2, delay=0, backoff=1.5, jitter=0,
                                             max_delay=4, retry_on=(ConnectionError,))
    assert build.rollback.__name__ == "undo_build"
    checks = app.commands["C"].action
    assert isinstance(checks, ActionGroup) and checks.fail_fast
    assert [s.name for s in checks.actions] == ["check_api", "check_db"]
    release = app.commands["R"].action
    assert isinstance(release, ChainedAction)
    assert release.actions[0] is build and release.actions[1] is checks  # keys reuse actions
    ship = release.actions[2]
    assert (ship.name, ship.timeout, ship.inject_last_result) == ("ship", 30, True)
    assert set(release.hooks._hooks) == {HookType.BEFORE, HookType.AFTER}
    square = app.commands["P"].action
    assert isinstance(square, ProcessAction) and square.executor == "thread"
    assert square.kwargs == {"n": 4}


async def test_a_chain_from_config_runs_with_hooks_injection_and_rollback(
    events: list[str],
) -> None:
    app = load(FILES[0])
    assert await app.run_key("R", target="qa") == "deployed"
    assert events == ["before release", "build qa x1",
                      "deploy after [('check_api', 'api ok'), ('check_db', 'db ok')]",
                      "after release OK"]
    events.clear()
    with pytest.raises(RuntimeError, match="deploy refused"):
        await app.run_key("F")
    assert events == ["build prod x1", "undo build prod"]


async def test_a_process_step_from_config_runs_in_its_executor() -> None:
    assert await load(FILES[1]).run_key("P") == 16


def test_from_config_is_load() -> None:
    app = Falyx.from_config(FILES[0])
    assert isinstance(app, Falyx) and list(app.commands) == ["B", "C", "R", "F", "P", "S", "U"]


def test_a_pyproject_without_a_falyx_table_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigFileError, match=r"no \[tool.falyx\] table"):
        load(tmp_path / "pyproject.toml")


def test_yaml_anchors_and_merge_keys_are_plain_data(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n"
        "  - &b {key: B, description: Build, action: 'builtins:print', retry: 2}\n"
        "  - <<: *b\n"
        "    key: C\n"
        "    description: Copy\n"
    )
    app = load(tmp_path / "falyx.yaml")
    assert app.commands["C"].action.retry_policy == RetryPolicy(max_retries=2)


def test_included_configs_nest_at_most_eight_deep(tmp_path: Path) -> None:
    for depth in range(10):
        (tmp_path / f"level{depth}.yaml").write_text(
            "commands:\n  - {key: A, description: Step, action: 'builtins:print'}\n"
            f"submenus:\n  - {{key: S, description: Sub, config: level{depth + 1}.yaml}}\n")
    with pytest.raises(ConfigFileError) as caught:
        load(tmp_path / "level0.yaml")
    (problem,) = caught.value.problems
    assert problem.file.endswith("level7.yaml")
    assert problem.message == "submenu configs nest deeper than 8 files"
    assert (problem.path, problem.line) == ("submenus[0].config", 4)


# -- positions: every key and item of any document has its own line and column -------------
_keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_scalars = st.one_of(st.integers(-5, 5), st.booleans(), st.text("ab c:#{}[]'\"", max_size=6))
_data = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)), max_leaves=12)


def _paths(value: object, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield (*path, i)
            yield from _paths(child, (*path, i))


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[\n  " + ",\n  ".join(_toml_value(v) for v in value) + "\n]"
    return json.dumps(value)


@settings(max_examples=60, deadline=None)
@given(data=st.dictionaries(_keys, _data, min_size=1, max_size=4))
def test_every_key_and_item_has_a_position_in_yaml_and_toml(data: dict, tmp_path_factory) -> None:
    import yaml

    folder = tmp_path_factory.mktemp("marks")
    (folder / "c.yaml").write_text(yaml.safe_dump(data, default_flow_style=False))
    (folder / "c.toml").write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in data.items()))
    for name in ("c.yaml", "c.toml"):
        doc = read_document(folder / name)
        assert doc.data == data
        lines = (folder / name).read_text().splitlines()
        for path in _paths(data):
            line, column = doc.marks[path]
            if isinstance(path[-1], str):  # a key: the text at its mark is that key
                text = lines[line - 1][column - 1:]
                assert text.lstrip("'\"").startswith(path[-1]), (name, path, text)


# -- run and shell steps ---------------------------------------------------------------------
def await_key(app: Falyx, key: str, **kwargs: object) -> object:
    """`app.run_key` from a sync test (the steps stream to the real stdout)."""
    import asyncio

    return asyncio.run(app.run_key(key, **kwargs))


def test_run_and_shell_steps_get_the_files_folder_env_and_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "project"
    (folder / "sub").mkdir(parents=True)
    (folder / "falyx.yaml").write_text(
        "env: {REGION: eu, ZONE: 1}\n"
        "commands:\n"
        "  - key: W\n"
        "    description: Where\n"
        "    run: pwd\n"
        "  - key: E\n"
        "    description: Environment\n"
        "    shell: echo $REGION $ZONE $TIER {name}\n"
        "    params: {name: world}\n"
        "    env: {TIER: gold, ZONE: 2}\n"
        "  - key: S\n"
        "    description: Sub\n"
        "    run: [pwd]\n"
        "    cwd: sub\n")
    monkeypatch.chdir(tmp_path)  # steps run in the config's folder, not the caller's
    app = load(folder / "falyx.yaml")
    assert await_key(app, "W") == str(folder)
    assert await_key(app, "E") == "eu 2 gold world"
    assert await_key(app, "E", name="you & me") == "eu 2 gold you & me"
    assert await_key(app, "S") == str(folder / "sub")
    capfd.readouterr()


def test_a_failing_shell_step_rolls_back_a_chain_with_a_shell_rollback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n"
        "  - key: R\n"
        "    description: Release\n"
        "    chain:\n"
        "      - {run: 'touch built', rollback: {run: 'rm built', name: unbuild}}\n"
        "      - {shell: 'test -e built && exit 3', name: deploy}\n")
    from falyx.errors import ShellCommandError

    with pytest.raises(ShellCommandError) as caught:
        await_key(load(tmp_path / "falyx.yaml"), "R")
    assert caught.value.returncode == 3
    assert not (tmp_path / "built").exists()  # created by step 1, removed by its rollback
    capfd.readouterr()


# -- validation: one wrong field, one problem, at that field ---------------------------------
_WRONG = {  # a field of each kind, and values of other kinds
    "bool": (["confirm", "hidden", "spinner", "retry_all", "record_result"],
             st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2),
                       st.floats(allow_nan=False))),
    "str": (["name", "help_text", "style", "confirm_message"],
            st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2))),
    "list": (["tags", "aliases"], st.one_of(st.integers(), st.booleans(),
                                            st.dictionaries(_keys, st.integers(), max_size=2))),
    "number": (["timeout"], st.one_of(st.text(max_size=5), st.booleans(),
                                      st.floats(max_value=0, allow_nan=False))),
}


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_one_wrong_field_gives_one_problem_at_that_field(data: st.DataObject) -> None:
    from falyx.config.schema import ConfigFile
    from falyx.config.source import Document
    from falyx.config.validate import convert

    kind = data.draw(st.sampled_from(sorted(_WRONG)))
    fields, values = _WRONG[kind]
    field, value = data.draw(st.sampled_from(fields)), data.draw(values)
    command = {"key": "B", "description": "Build", "action": "m:f", field: value}
    document = {"commands": [{"key": "A", "description": "Ok", "run": "true"}, command]}
    doc = Document(Path("falyx.yaml"), document, {("commands", 1, field): (7, 5)})
    conversion = convert(doc, document, ConfigFile)
    problems = conversion.problems
    assert [(p.path, p.line) for p in problems] == [(f"commands[1].{field}", 7)], problems
    # what is valid is kept for the later stages: the command without that field, partial
    salvaged = conversion.value
    assert salvaged is not None and salvaged.commands[0].run == "true"
    assert (salvaged.commands[1].key, salvaged.commands[1].action) == ("B", "m:f")
    assert getattr(salvaged.commands[1], field) is None
    assert conversion.partial == {("commands", 1)}


# -- submenus --------------------------------------------------------------------------------
def test_submenus_mount_an_included_config_and_a_python_app(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n  - {key: A, description: Answer, action: 'sub_tasks:answer'}\n"
        "submenus:\n"
        "  - {key: O, description: Ops tools, config: ops/ops.yaml, tags: [ops]}\n"
        "  - {key: P, description: Python tools, app: 'sub_tasks:tools', name: py}\n")
    (tmp_path / "ops" / "ops.yaml").write_text(  # its refs resolve from its own folder
        "commands:\n  - {key: S, description: Status, action: 'ops_tasks:status'}\n")
    (tmp_path / "ops" / "ops_tasks.py").write_text("def status():\n    return 'green'\n")
    (tmp_path / "sub_tasks.py").write_text(
        "from falyx import Falyx\n\ndef answer():\n    return 42\n\n"
        "tools = Falyx('Tools')\n\n@tools.command(key='V')\ndef version():\n    return '1.0'\n")
    app = load(tmp_path / "falyx.yaml")
    assert [(s.cli_name, s.tags) for s in app.submenus.values()] == [
        ("ops-tools", ("ops",)), ("py", ())]  # add_submenu's rule: the description, dashed
    assert await_key(app, "O.S") == "green"
    assert await_key(app, "P.V") == "1.0"
    result = run_cli(app, ["ops-tools", "run", "S", "--json"])
    assert result.exit_code == 0, result.output
    assert '"result": "green"' in result.stdout


_NAMING = [  # (the sub-app's program, name=, description): add_submenu's rule decides
    ("pyops", None, "Py ops"),  # its program
    (None, None, "Py ops"),  # the description, dashed
    (None, None, "Ops"),
    ("pyops", "tools", "Py ops"),  # name= wins over both
    (None, "tools", "Py ops"),
    (None, None, "Ops & more"),  # no word: the key, in lower case
]


@pytest.mark.parametrize(("program", "name", "description"), _NAMING)
def test_config_submenus_are_named_by_the_rule_of_python_add_submenu(
        tmp_path: Path, program: str | None, name: str | None, description: str) -> None:
    module = f"naming_{tmp_path.name.replace('-', '_')}"  # a fresh app each case
    (tmp_path / f"{module}.py").write_text(
        "from falyx import Falyx\n\n"
        f"ops = Falyx('Py ops', program={program!r})\n\n"
        "@ops.command(key='S')\ndef status():\n    return 'up'\n")
    (tmp_path / "ops.yaml").write_text(
        (f"program: {program}\n" if program else "")
        + "commands:\n  - {key: S, description: Status, action: 'builtins:print'}\n")
    named = f", name: {name}" if name else ""
    python = Falyx("top")
    python.add_submenu("O", description, Falyx("Py ops", program=program), name=name)
    expected = python.submenus["O"].cli_name
    (tmp_path / "falyx.yaml").write_text(
        f"submenus:\n  - {{key: O, description: '{description}', app: '{module}:ops'{named}}}\n")
    by_app = load(tmp_path / "falyx.yaml").submenus["O"].cli_name
    (tmp_path / "falyx.yaml").write_text(
        f"submenus:\n  - {{key: O, description: '{description}', config: ops.yaml{named}}}\n")
    by_config = load(tmp_path / "falyx.yaml").submenus["O"].cli_name
    assert by_app == by_config == expected
    assert expected == (name or program or ("o" if "&" in description else
                                            description.lower().replace(" ", "-")))


def test_a_submenu_problem_is_reported_at_its_place(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text(
        "commands:\n  - {key: A, description: Answer, action: 'builtins:print'}\n"
        "submenus:\n"
        "  - {key: O, description: Ops, config: ops.yaml}\n"
        "  - {key: N, description: Not an app, app: 'builtins:print'}\n")
    (tmp_path / "ops.yaml").write_text(  # B goes back in a submenu's menu
        "commands:\n  - {key: B, description: Backup, action: 'builtins:print'}\n")
    with pytest.raises(ConfigFileError) as caught:
        load(tmp_path / "falyx.yaml")
    lines = [(p.path, p.line, p.message.split(";")[0]) for p in caught.value.problems]
    assert lines[1] == ("submenus[1].app", 5,
                        "ref 'builtins:print' names builtin_function_or_method, not a Falyx app")
    assert lines[0][:2] == ("submenus[0]", 4) and "'B'" in lines[0][2]


def test_pythonpath_folders_are_relative_to_the_file(tmp_path: Path) -> None:
    for folder, module in (("src", "pp_one"), ("lib", "pp_two")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{module}.py").write_text(f"def f():\n    return '{module}'\n")
    (tmp_path / "falyx.toml").write_text(
        'pythonpath = ["src", "lib"]\n'
        '[[commands]]\nkey = "A"\ndescription = "One"\naction = "pp_one:f"\n'
        '[[commands]]\nkey = "B"\ndescription = "Two"\naction = "pp_two:f"\n')
    app = load(tmp_path / "falyx.toml")
    assert (await_key(app, "A"), await_key(app, "B")) == ("pp_one", "pp_two")


def test_toml_tables_under_arrays_of_tables_give_their_lines(tmp_path: Path) -> None:
    (tmp_path / "falyx.toml").write_text(
        '[[commands]]\nkey = "A"\ndescription = "One"\naction = "builtins:print"\n'
        '[[commands]]\nkey = "B"\ndescription = "Two"\naction = "builtins:print"\n'
        "[commands.retry]\nmax_retries = 2\ndelay = -3\n")
    with pytest.raises(ConfigFileError) as caught:
        load(tmp_path / "falyx.toml")
    assert [str(p).split(": ", 1)[1] for p in caught.value.problems] == [
        "commands[1].retry.delay: must be >= 0"]
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (11, 1)
