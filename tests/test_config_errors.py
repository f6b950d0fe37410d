"""Every bad config file gets its exact problem lines: `FILE:LINE:COL: path: message`.

Each file under tests/configs/bad/ is one kind of mistake (the `mixed_*` files mix the
stages: schema problems beside duplicate keys, bad refs, cycles, reserved names); the table
holds every line its check must print (all problems of a file at once). `{dir}` stands for
that folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx.config import ConfigFileError, load
from tests.conftest import subprocess_env

BAD = Path(__file__).parent / "configs" / "bad"

CASES: dict[str, list[str]] = {
    'bad_executor.yaml': [
        "bad_executor.yaml:5:5: commands[0].executor: unknown executor 'gpu:4'; use 'process', 'process:N', 'thread', 'thread:N', 'dask', 'dask:N' or 'dask://HOST:PORT'",
    ],
    'chain_cycle.yaml': [
        'chain_cycle.yaml:7:30: commands[1].chain[1]: steps form a cycle: A -> B -> A',
    ],
    'duplicate_alias.yaml': [
        "duplicate_alias.yaml:8:15: commands[1].aliases[0]: duplicate key 'mk': commands[0] already uses it (keys are case-insensitive)",
    ],
    'duplicate_command_key.yaml': [
        "duplicate_command_key.yaml:5:5: commands[1].key: duplicate key 'b': commands[0] already uses it (keys are case-insensitive)",
    ],
    'duplicate_mapping_key.yaml': [
        "duplicate_mapping_key.yaml:7:5: commands[0].retry: duplicate key 'retry' (first on line 5)",
    ],
    'empty.yaml': [
        "empty.yaml:1:1: the file is empty; a config needs 'commands' (see 'falyx init')",
    ],
    'many_problems.yaml': [
        'many_problems.yaml:6:13: commands[0].retry.delay: must be >= 0',
        "many_problems.yaml:7:5: commands[1]: missing required field 'description'",
        "many_problems.yaml:8:5: commands[1].descripton: unknown field 'descripton'; did you mean 'description'?",
        "many_problems.yaml:12:16: commands[2].chain[1]: step 'X' is neither a command key of this file nor an import ref; write 'pkg.module:function' for Python",
        "many_problems.yaml:12:19: commands[2].chain[2]: ref 'cfg_tasks:nope': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'nope'",
    ],
    'mixed_command_rules_and_refs.yaml': [
        "mixed_command_rules_and_refs.yaml:4:5: commands[0].action: ref 'cfg_tasks:nope': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'nope'",
        'mixed_command_rules_and_refs.yaml:5:5: commands[0].fail_fast: applies to group steps only, not to action',
        "mixed_command_rules_and_refs.yaml:6:5: commands[1].key: 'two words' must be one word",
        "mixed_command_rules_and_refs.yaml:8:5: commands[1].action: ref 'missing_tasks:run': no module named 'missing_tasks' (looked in {dir} and the installed packages)",
        "mixed_command_rules_and_refs.yaml:9:5: commands[2]: missing required field 'description'",
        "mixed_command_rules_and_refs.yaml:10:5: commands[2].action: ref 'cfg_tasks:NOT_CALLABLE' names int 42, which is not callable",
    ],
    'mixed_every_stage.yaml': [
        "mixed_every_stage.yaml:5:5: commands[0].action: ref 'cfg_tasks:biuld': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'biuld'; did you mean 'build'?",
        'mixed_every_stage.yaml:6:5: commands[0].timeout: expected a number, got a string',
        "mixed_every_stage.yaml:7:5: commands[1].key: duplicate key 'a': commands[0] already uses it (keys are case-insensitive)",
        'mixed_every_stage.yaml:10:5: commands[1].tags: expected a list, got a string',
        "mixed_every_stage.yaml:12:5: commands[2].name: name 'history' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
        "mixed_every_stage.yaml:15:5: commands[2].confrim: unknown field 'confrim'; did you mean 'confirm'?",
        'mixed_every_stage.yaml:19:13: commands[3].retry.delay: must be >= 0',
        'mixed_every_stage.yaml:22:13: commands[4].chain[0]: steps form a cycle: D -> E -> D',
        'mixed_every_stage.yaml:23:5: commands[4].spinner: expected true or false, got a string',
        "mixed_every_stage.yaml:27:9: commands[5].chain[0]: step 'DD' is neither a command key of this file nor an import ref; did you mean 'D'?",
        'mixed_every_stage.yaml:28:23: commands[5].chain[1].timeout: must be > 0',
        "mixed_every_stage.yaml:29:10: commands[5].chain[2].action: ref 'nosuch_module:go': no module named 'nosuch_module' (looked in {dir} and the installed packages)",
        "mixed_every_stage.yaml:29:36: commands[5].chain[2].retires: unknown field 'retires'; did you mean 'retry'?",
    ],
    'mixed_reader_and_later_stages.yaml': [
        "mixed_reader_and_later_stages.yaml:6:5: commands[0].run: duplicate key 'run' (first on line 5)",
        "mixed_reader_and_later_stages.yaml:9:13: commands[1].action: tag '!!python/name:os.system' is refused: a config holds plain data only (strings, numbers, booleans, lists, mappings), and nothing in it is executed",
        "mixed_reader_and_later_stages.yaml:10:5: commands[2].key: duplicate key 'a': commands[0] already uses it (keys are case-insensitive)",
        "mixed_reader_and_later_stages.yaml:12:5: commands[2].action: ref 'cfg_tasks:nope': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'nope'",
    ],
    'mixed_stages.toml': [
        'mixed_stages.toml:7:1: commands[0].timeout: must be > 0',
        "mixed_stages.toml:10:1: commands[1].key: duplicate key 'b': commands[0] already uses it (keys are case-insensitive)",
        "mixed_stages.toml:12:1: commands[1].action: ref 'cfg_tasks:missing': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'missing'",
    ],
    'mixed_registration_stages.yaml': [
        "mixed_registration_stages.yaml:6:5: commands[1].key: duplicate key 'r': commands[0] already uses it (keys are case-insensitive)",
        "mixed_registration_stages.yaml:6:5: commands[1]: chain 'build -> push': parameter 'tag' is declared as str (= 'latest') by step 'build' but as int (= 2) by step 'push'; a name shared by several steps needs one type and one default",
        "mixed_registration_stages.yaml:11:5: commands[2]: command 'V': placeholder {version} would take the option --version, which falyx keeps for itself; rename the placeholder (and its 'params' entry)",
        "mixed_registration_stages.yaml:12:5: commands[2].name: name 'history' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
    ],
    'mixed_step_options_and_body.yaml': [
        "mixed_step_options_and_body.yaml:5:5: commands[0].action: ref 'cfg_tasks:nope': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'nope'",
        "mixed_step_options_and_body.yaml:6:13: commands[0].hooks.before: ref 'cfg_tasks:missing_hook': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'missing_hook'",
        "mixed_step_options_and_body.yaml:9:30: commands[1].chain[1]: step 'NOKEY' is neither a command key of this file nor an import ref; write 'pkg.module:function' for Python",
        "mixed_step_options_and_body.yaml:10:5: commands[1].rollback: ref 'cfg_tasks:no_undo': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'no_undo'; did you mean 'undo'?",
        "mixed_step_options_and_body.yaml:13:5: commands[2].shell: step 'c': placeholder {msg} is inside single quotes; write it as a bare word (falyx quotes every value for the shell)",
        "mixed_step_options_and_body.yaml:14:24: commands[2].retry.retry_on[0]: 'NoSuchError' is not an exception class (use a builtin name such as ConnectionError, a falyx error such as ShellCommandError, or 'pkg.mod:MyError')",
    ],
    'mixed_submenu_stages.yaml': [
        "mixed_submenu_stages.yaml:6:6: submenus[0].key: duplicate key 'o': commands[0] already uses it (keys are case-insensitive)",
        "mixed_submenu_stages.yaml:6:32: submenus[0].config: no such config file: 'ops/missing.yaml' (looked for {dir}/ops/missing.yaml)",
        "mixed_submenu_stages.yaml:6:58: submenus[0].colour: unknown field 'colour'; known fields: key, description, config, app, name, tags, style",
        "mixed_submenu_stages.yaml:7:41: submenus[1].app: ref 'cfg_tasks:build' names function, not a Falyx app",
        "mixed_submenu_stages.yaml:7:65: submenus[1].name: name 'schema' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
        'mixed_submenu_stages.yaml:7:79: submenus[1].tags: expected a list, got a string',
    ],
    'mixed_unknown_field_hides_duplicate_key.yaml': [
        "mixed_unknown_field_hides_duplicate_key.yaml:6:5: commands[0].retires: unknown field 'retires'; did you mean 'retry'?",
        "mixed_unknown_field_hides_duplicate_key.yaml:7:5: commands[1].key: duplicate key 'B': commands[0] already uses it (keys are case-insensitive)",
    ],
    'hook_wrong_signature.yaml': [
        "hook_wrong_signature.yaml:5:13: commands[0].hooks.before: ref 'cfg_tasks:no_args_hook': before hook 'no_args_hook' must accept one positional argument, the step's ExecutionContext (hooks are called as hook(ctx)); its signature is ()",
        "hook_wrong_signature.yaml:5:74: commands[0].hooks.error[1]: ref 'cfg_tasks:two_args_hook': on_error hook 'two_args_hook' must accept one positional argument, the step's ExecutionContext (hooks are called as hook(ctx)); its signature is (ctx: object, other: object)",
        "hook_wrong_signature.yaml:9:52: commands[1].chain[0].hooks.after[0]: ref 'cfg_tasks:keyword_only_hook': after hook 'keyword_only_hook' must accept one positional argument, the step's ExecutionContext (hooks are called as hook(ctx)); its signature is (*, ctx: object)",
    ],
    'inject_into_missing_parameter.yaml': [
        "inject_into_missing_parameter.yaml:6:9: commands[0].chain[1]: step 'deploy' gets the previous result as keyword 'last_result', but its function has no 'last_result' parameter; add `last_result=None` to its signature or set 'inject_into' to a parameter it has",
    ],
    'missing_description.yaml': [
        "missing_description.yaml:2:5: commands[0]: missing required field 'description'",
    ],
    'missing_key.yaml': ["missing_key.yaml:2:5: commands[0]: missing required field 'key'"],
    'negative_retry_delay.yaml': [
        'negative_retry_delay.yaml:11:7: commands[1].retry.delay: must be >= 0',
    ],
    'no_body.yaml': [
        'no_body.yaml:2:5: commands[0]: needs one body: action, run, shell, process, chain, group',
    ],
    'no_commands.yaml': [
        "no_commands.yaml:1:1: top level: defines no commands; add some under 'commands' (see 'falyx init')",
    ],
    'not_utf8.yaml': ['not_utf8.yaml:1:10: not UTF-8 text (byte 0xe9); save the file as UTF-8'],
    'only_comment.yaml': [
        "only_comment.yaml:1:1: the file is empty; a config needs 'commands' (see 'falyx init')",
    ],
    'option_for_other_body.yaml': [
        'option_for_other_body.yaml:5:5: commands[0].fail_fast: applies to group steps only, not to run',
    ],
    'param_named_like_an_option.yaml': ["param_named_like_an_option.yaml:2:5: commands[0]: command 'V': placeholder {version} would take the option --version, which falyx keeps for itself; rename the placeholder (and its 'params' entry)"],
    'params_clash.yaml': ["params_clash.yaml:2:5: commands[0]: chain 'release': parameter 'tag' is declared as str (= 'latest') by step 'build' but as int (= 2) by step 'push'; a name shared by several steps needs one type and one default"],
    'params_without_placeholder.yaml': ["params_without_placeholder.yaml:5:5: commands[0].params: step 'build': params declares 'target' but the command has no {target} placeholder: make build"],
    'python_tag.yaml': [
        "python_tag.yaml:5:11: commands[0].args: tag '!!python/object/apply:os.system' is refused: a config holds plain data only (strings, numbers, booleans, lists, mappings), and nothing in it is executed",
    ],
    'ref_import_raises.yaml': [
        "ref_import_raises.yaml:4:5: commands[0].action: ref 'cfg_raises:build': importing 'cfg_raises' ({dir}/cfg_raises.py) raised RuntimeError: cannot connect to the license server",
    ],
    'ref_malformed.yaml': [
        "ref_malformed.yaml:4:5: commands[0].action: 'cfg_tasks:' is not an import ref; write 'pkg.module:function'",
    ],
    'ref_missing_attribute.yaml': [
        "ref_missing_attribute.yaml:4:5: commands[0].action: ref 'cfg_tasks:biuld': cfg_tasks ({dir}/cfg_tasks.py) has no attribute 'biuld'; did you mean 'build'?",
    ],
    'ref_no_module.yaml': [
        "ref_no_module.yaml:4:5: commands[0].action: ref 'no_such_tasks:build': no module named 'no_such_tasks' (looked in {dir} and the installed packages)",
    ],
    'ref_not_callable.yaml': [
        "ref_not_callable.yaml:4:5: commands[0].action: ref 'cfg_tasks:NOT_CALLABLE' names int 42, which is not callable",
    ],
    'reserved_key.yaml': [
        "reserved_key.yaml:2:5: commands[0].key: key 'h' is reserved for the menu's Help",
    ],
    'reserved_name_history.yaml': [
        "reserved_name_history.yaml:4:5: commands[0].name: name 'history' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
    ],
    'reserved_name_init.yaml': [
        "reserved_name_init.yaml:4:5: commands[0].name: name 'init' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
    ],
    'reserved_name_run.yaml': [
        "reserved_name_run.yaml:4:5: commands[0].name: name 'run' is reserved for falyx's own commands (check, help, history, init, preview, run, run-all, schema)",
    ],
    'retry_on_not_exception.yaml': [
        "retry_on_not_exception.yaml:5:41: commands[0].retry.retry_on[1]: 'cfg_tasks:build' is not an exception class (use a builtin name such as ConnectionError, a falyx error such as ShellCommandError, or 'pkg.mod:MyError')",
    ],
    'retry_on_misspelt_name.yaml': [
        "retry_on_misspelt_name.yaml:5:61: commands[0].retry.retry_on[2]: 'ShellComandError' is not an exception class; did you mean 'ShellCommandError'? (use a builtin name such as ConnectionError, a falyx error such as ShellCommandError, or 'pkg.mod:MyError')",
        "retry_on_misspelt_name.yaml:5:79: commands[0].retry.retry_on[3]: 'Conectionerror' is not an exception class; did you mean 'ConnectionError'? (use a builtin name such as ConnectionError, a falyx error such as ShellCommandError, or 'pkg.mod:MyError')",
    ],
    'retry_unknown_field.yaml': [
        "retry_unknown_field.yaml:5:29: commands[0].retry.dealy: unknown field 'dealy'; did you mean 'delay'?",
    ],
    'run_shell_c_placeholder.yaml': [
        "run_shell_c_placeholder.yaml:4:5: commands[0].run: step 'keep': a placeholder in the script of 'sh -c' would be read as shell code; write the script as a 'shell:' body instead, which quotes every value",
    ],
    'shell_placeholder_in_quotes.yaml': ["shell_placeholder_in_quotes.yaml:4:5: commands[0].shell: step 'deploy': placeholder {tag} is inside double quotes; write it as a bare word (falyx quotes every value for the shell)"],
    'step_key_unknown.yaml': [
        "step_key_unknown.yaml:7:13: commands[1].chain[0]: step 'BUILDD' is neither a command key of this file nor an import ref; did you mean 'BUILD'?",
    ],
    'submenu_cycle.yaml': [
        'submenu_cycle_ops.yaml:6:33: submenus[0].config: include cycle: submenu_cycle.yaml -> submenu_cycle_ops.yaml -> submenu_cycle.yaml',
    ],
    'submenu_missing.yaml': [
        "submenu_missing.yaml:6:32: submenus[0].config: no such config file: 'ops/missing.yaml' (looked for {dir}/ops/missing.yaml)",
    ],
    'tab_indent.yaml': [
        'tab_indent.yaml:4:1: YAML syntax error: a tab character; YAML is indented with spaces only',
    ],
    'top_level_list.yaml': ['top_level_list.yaml:1:1: top level: expected a mapping, got a list'],
    'two_bodies.yaml': [
        'two_bodies.yaml:2:5: commands[0]: has 2 bodies (action, run); keep exactly one',
    ],
    'unknown_field.yaml': [
        "unknown_field.yaml:5:5: commands[0].retires: unknown field 'retires'; did you mean 'retry'?",
    ],
    'unknown_hook_type.yaml': [
        "unknown_hook_type.yaml:5:13: commands[0].hooks.befor: unknown key 'befor'; did you mean 'before'?",
    ],
    'unknown_top_level_field.yaml': [
        "unknown_top_level_field.yaml:1:1: titel: unknown field 'titel'; did you mean 'title'?",
    ],
    'wrong_type_bool.yaml': [
        'wrong_type_bool.yaml:5:5: commands[0].confirm: expected true or false, got a string',
    ],
    'wrong_type_env.yaml': [
        'wrong_type_env.yaml:3:3: env.ZONES: expected an integer, a number or a string, got a list',
    ],
    'wrong_type_integer.yaml': [
        'wrong_type_integer.yaml:5:13: commands[0].retry.max_retries: expected an integer, got a number',
    ],
    'wrong_type_list.yaml': [
        'wrong_type_list.yaml:5:5: commands[0].tags: expected a list, got a string',
    ],
    'wrong_type_mapping.yaml': [
        'wrong_type_mapping.yaml:5:5: commands[0].kwargs: expected a mapping, got a list',
    ],
    'wrong_type_number.yaml': [
        'wrong_type_number.yaml:5:5: commands[0].timeout: expected a number, got a string',
    ],
    'wrong_type_retry.yaml': [
        'wrong_type_retry.yaml:5:5: commands[0].retry: expected true or false, an integer or a mapping, got a string',
    ],
    'wrong_type_step.yaml': [
        'wrong_type_step.yaml:6:9: commands[0].chain[1]: expected a string or a mapping, got an integer',
    ],
    'wrong_type_string.yaml': [
        'wrong_type_string.yaml:1:1: title: expected a string, got a list',
        'wrong_type_string.yaml:4:5: commands[0].description: expected a string, got an integer',
    ],
    'yaml_syntax.yaml': [
        'yaml_syntax.yaml:4:23: YAML syntax error: mapping values are not allowed in this context',
    ],
    'zero_timeout.yaml': ['zero_timeout.yaml:5:5: commands[0].timeout: must be > 0'],
    'toml_syntax.toml': ["toml_syntax.toml:5:21: TOML syntax error: Illegal character '\\n'"],
    'wrong_type.toml': ['wrong_type.toml:12:28: commands[1].retry.delay: must be >= 0'],
    'pyproject_bad/pyproject.toml': [
        'pyproject_bad/pyproject.toml:11:1: tool.falyx.commands[0].confirm: expected true or false, got a string',
    ],
}


@pytest.fixture
def in_bad_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the bad-config folder (short file names) with sys.path restored afterwards."""
    monkeypatch.chdir(BAD)
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_there_are_at_least_thirty_bad_files_and_each_has_a_case() -> None:
    on_disk = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.suffix in (".yaml", ".toml")}
    included_only = {"submenu_cycle_ops.yaml"}
    assert on_disk - included_only == set(CASES)
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.usefixtures("in_bad_folder")
def test_bad_config_reports_exactly_its_problems(name: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load(name)
    expected = [line.replace("{dir}", str(BAD)) for line in CASES[name]]
    assert str(caught.value).splitlines() == expected
    assert caught.value.exit_code == 2
    assert [str(p) for p in caught.value.problems] == expected


@pytest.mark.usefixtures("in_bad_folder")
def test_a_python_tag_is_never_executed() -> None:
    with pytest.raises(ConfigFileError):
        load("python_tag.yaml")
    assert not (BAD / "pwned-by-yaml").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["many_problems.yaml", "not_utf8.yaml", "toml_syntax.toml",
                                  "ref_import_raises.yaml", "submenu_cycle.yaml",
                                  "mixed_every_stage.yaml"])
def test_falyx_check_prints_the_problems_and_exits_2_without_a_traceback(name: str) -> None:
    done = subprocess.run([sys.executable, "-m", "falyx", "check", name], cwd=BAD,
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    expected = [line.replace("{dir}", str(BAD)) for line in CASES[name]]
    assert done.stderr.splitlines() == expected


@pytest.mark.slow
def test_running_a_command_of_a_bad_config_prints_the_problems_and_exits_2() -> None:
    done = subprocess.run([sys.executable, "-m", "falyx", "-c", "negative_retry_delay.yaml",
                           "run", "B", "-y"], cwd=BAD, capture_output=True, text=True,
                          env=subprocess_env(), timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == CASES["negative_retry_delay.yaml"]


# -- stages: a schema problem anywhere hides no problem of a later stage ----------------------
_LATER = {  # a problem of a later stage, as the fields that make it (i: the command's index)
    "none": lambda i: {},
    "bad ref": lambda i: {"action": f"cfg_tasks:nope{i}"},
    "unknown step key": lambda i: {"chain": [f"QQ{i}"]},
    "duplicate key": lambda i: {"key": "K0"} if i else {},
    "reserved name": lambda i: {"name": "history"},
}
_SCHEMA = {  # a schema problem in a field no later stage reads
    "unknown field": ("retires", 2),
    "wrong type": ("timeout", "soon"),
    "bad list": ("tags", "ci"),
    "bad retry": ("retry", {"delay": -1}),
    "bad bool": ("confirm", "maybe"),
}


def _problems(document: dict, folder: Path) -> set[tuple[str, str]]:
    (folder / "falyx.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    saved = list(sys.path)
    try:
        load(folder / "falyx.yaml")
    except ConfigFileError as exc:
        return {(p.path, p.message) for p in exc.problems}
    finally:
        sys.path[:] = saved
    return set()


@settings(max_examples=60, deadline=None)
@given(later=st.lists(st.sampled_from(sorted(_LATER)), min_size=2, max_size=5),
       schema=st.data())
def test_schema_problems_hide_no_problem_of_a_later_stage(
        later: list[str], schema: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    commands = []
    for i, kind in enumerate(later):
        command = {"key": f"K{i}", "description": f"Command {i}", "run": "true"}
        fields = _LATER[kind](i)
        if "action" in fields or "chain" in fields:
            del command["run"]
        commands.append({**command, **fields})
    document = {"pythonpath": [str(BAD)], "commands": commands}
    folder = tmp_path_factory.mktemp("stages")
    clean = _problems(document, folder)
    expected = [kind for i, kind in enumerate(later) if kind != "none" and (
        i or kind != "duplicate key")]  # command 0 holds the key K0 the others repeat
    assert len(clean) == len(expected)  # each later problem, once
    broken = schema.draw(st.lists(st.sampled_from(sorted(_SCHEMA)), min_size=len(later),
                                  max_size=len(later)))
    for command, kind in zip(commands, broken, strict=True):
        field, value = _SCHEMA[kind]
        command[field] = value
    found = _problems(document, folder)
    added = {p for p in found if p[0].endswith(tuple(f".{_SCHEMA[k][0]}" for k in broken))
             or p[0].endswith(".retry.delay")}
    assert found - added == clean
    assert len(added) == len(later)  # and each schema problem, once
