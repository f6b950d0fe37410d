"""Shell step commands: splitting, placeholders, quoting, and what a value can never do."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from falyx import ShellAction
from falyx.action.shell_template import CommandTemplate, quoted_command, shell_words
from falyx.errors import InvalidActionError, UsageError
from tests.helpers_engine import isolated_run

#: A child that prints its arguments as hex, one per line: what it received, byte for byte.
ECHO_ARGS = [sys.executable, "-c",
             "import os, sys; print('\\n'.join('=' + os.fsencode(a).hex() for a in sys.argv[1:]))"]
HOSTILE = ["x; rm -rf {victim}", "$(touch {victim}/pwned)", "`touch {victim}/pwned`",
           "a' ; touch {victim}/pwned ; '", "\"; touch {victim}/pwned; \"",
           "a\nb && rm -r {victim}", "--help", "-rf", "*", "~", "$HOME", "${HOME}", "{tag}", "",
           " ", "a b\tc", "\\", "é ✓ 字"]
#: Argument text a program can receive (no NUL; no lone surrogates, which are not text).
ARGUMENT_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))


def received(out: str) -> list[str]:
    lines = out.split("\n") if out else []
    return [bytes.fromhex(line.removeprefix("=")).decode() for line in lines]


# -- splitting and checking -------------------------------------------------------------------
def test_a_string_command_is_split_like_a_shell_would_without_running_one() -> None:
    template = CommandTemplate.parse("s", "git commit -m 'first commit' --author={who}", False)

    assert template.items == ("git", "commit", "-m", "first commit", "--author={who}")
    assert template.placeholders == ("who",)
    assert template.source == "git commit -m 'first commit' --author={who}"


def test_an_argv_list_is_shown_with_shell_quoting_and_readable_placeholders() -> None:
    template = CommandTemplate.parse("s", ["docker", "build", "-t", "app:{tag}", "my dir", ""],
                                     False)

    assert template.source == "docker build -t app:{tag} 'my dir' ''"


@pytest.mark.parametrize("item", ["{}", "{0}", "{a.b}", "{x[0]}", "{ tag }", "${HOME}", "{-x}",
                                  '{"a": {"b": 1}}', "awk '{print $1}'", "{{tag}}"])
def test_braces_that_are_not_placeholders_are_kept_as_written(item: str) -> None:
    template = CommandTemplate.parse("s", ["prog", item], False)

    argv, _ = template.fill("s", {})

    assert template.placeholders == ()
    assert argv == ["prog", "{tag}" if item == "{{tag}}" else item]


def test_placeholders_are_listed_once_in_order_of_appearance() -> None:
    template = CommandTemplate.parse("s", ["{b}", "{a}-{b}", "x{c}y", "{{d}}"], False)

    assert template.placeholders == ("b", "a", "c")


@pytest.mark.parametrize(("command", "shell", "message"), [
    ([], False, "the command is empty"),
    ("", False, "the command is empty"),
    ("   ", True, "the command is empty"),
    (["echo", "hi"], True, "shell=True runs one string"),
    ("echo 'unclosed", False, "cannot split command \"echo 'unclosed\": No closing quotation"),
    (["echo", None], False, "argv items must be strings or paths, got NoneType None"),
    (b"echo", False, "command must be an argv list or a string"),
    (42, False, "command must be an argv list or a string"),
    (["echo", "a\0b"], False, "contains a NUL character"),
    (["sh", "-c", "echo {msg}"], False, "pass the script with shell=True"),
    ("bash -euc 'deploy {env}'", False, "pass the script with shell=True"),
    (["/bin/bash", "-e", "-c", "-x", "run {x}"], False, "pass the script with shell=True"),
    (["sh", "-c", 'echo "$1"', "sh", "{msg}"], False, None),  # a positional parameter: safe
    ("sudo -u app sh -c 'restart {svc}'", False, "pass the script with shell=True"),
    ("kubectl exec pod -- bash -lc 'kill {pid}'", False, "pass the script with shell=True"),
    ("kubectl exec pod -- bash -lc 'kill $1' bash {pid}", False, None),
    ("echo '{msg}'", True, "placeholder {msg} is inside single quotes"),
    ('echo "x {msg}"', True, "placeholder {msg} is inside double quotes"),
    ("echo \\{msg}", True, "placeholder {msg} is after a backslash"),
    ("cat <<EOF\n{msg}\nEOF", True, "placeholder {msg} is in a here-document"),
])
def test_a_command_that_cannot_run_safely_is_refused_at_definition(
    command: object, shell: bool, message: str | None
) -> None:
    if message is None:
        assert ShellAction("s", command, shell=shell)  # type: ignore[arg-type]
        return
    with pytest.raises(InvalidActionError) as caught:
        ShellAction("deploy", command, shell=shell)  # type: ignore[arg-type]

    assert str(caught.value).startswith("step 'deploy': ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_shell_script_may_use_placeholders_outside_quotes_after_quoted_text() -> None:
    template = CommandTemplate.parse(
        "s", "echo 'it''s' \"$HOME\" {a} | grep -v '{{x}}' && printf '%s' {b}", True)

    _, script = template.fill("s", {"a": "1", "b": "2"})

    assert template.placeholders == ("a", "b")  # '{{x}}' is the literal text {x}
    assert script == "echo 'it''s' \"$HOME\" 1 | grep -v '{x}' && printf '%s' 2"


# -- filling ----------------------------------------------------------------------------------
def test_a_missing_placeholder_value_is_a_usage_error_naming_it() -> None:
    template = CommandTemplate.parse("s", ["git", "tag", "{tag}"], False)

    with pytest.raises(UsageError) as caught:
        template.fill("tag-it", {"other": 1})

    assert str(caught.value) == ("step 'tag-it': no value for placeholder {tag}; pass tag= "
                                 "(the --tag option) or give it a default in params=")
    assert caught.value.exit_code == 2


def test_none_is_no_value_and_last_result_explains_where_it_comes_from() -> None:
    template = CommandTemplate.parse("s", ["deploy", "{last_result}"], False)

    with pytest.raises(UsageError, match=r"\{last_result\} \(got None\); it is the previous "
                                         r"step's result: run the step in a chain"):
        template.fill("s", {"last_result": None})


def test_a_value_holding_nul_is_refused_naming_the_placeholder() -> None:
    template = CommandTemplate.parse("s", ["echo", "{v}"], False)

    with pytest.raises(UsageError, match=r"placeholder \{v\} contains a NUL"):
        template.fill("s", {"v": "a\0b"})


def test_values_are_converted_to_text_and_the_display_is_shell_quoted() -> None:
    template = CommandTemplate.parse("s", "scale --replicas={n} --path {p} {flag}", False)

    argv, display = template.fill("s", {"n": 3, "p": Path("/tmp/a b"), "flag": True})

    assert argv == ["scale", "--replicas=3", "--path", "/tmp/a b", "True"]
    assert display == "scale --replicas=3 --path '/tmp/a b' True"


def test_with_shell_each_value_is_quoted_into_the_script() -> None:
    template = CommandTemplate.parse("s", "echo {a} {b} | wc -l", True)

    argv, display = template.fill("s", {"a": "x; id", "b": "plain"})

    assert argv == ["/bin/sh", "-c", "echo 'x; id' plain | wc -l"]
    assert display == "echo 'x; id' plain | wc -l"


# -- what the program receives (real processes) -------------------------------------------------
@pytest.mark.parametrize("shell", [False, True], ids=["argv", "shell"])
async def test_hostile_values_reach_the_program_as_one_literal_argument_each(
    tmp_path: Path, shell: bool
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    values = [v.replace("{victim}", str(victim)) for v in HOSTILE]
    names = [f"v{i}" for i in range(len(values))]
    placeholders = [f"{{{n}}}" for n in names]
    command = (" ".join([*map(shlex.quote, ECHO_ARGS), *placeholders]) if shell
               else [*ECHO_ARGS, *placeholders])
    step = ShellAction("echo-args", command, shell=shell)

    with isolated_run():
        out = await step(**dict(zip(names, values, strict=True)))

    assert received(out) == values
    assert victim.is_dir() and not (victim / "pwned").exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(ARGUMENT_TEXT, min_size=1, max_size=4), shell=st.booleans())
async def test_any_text_value_fills_exactly_one_argument_unchanged(
    values: list[str], shell: bool
) -> None:
    names = [f"v{i}" for i in range(len(values))]
    placeholders = [f"{{{n}}}" for n in names]
    command = (" ".join([*map(shlex.quote, ECHO_ARGS), *placeholders]) if shell
               else [*ECHO_ARGS, *placeholders])

    with isolated_run():
        out = await ShellAction("echo-args", command, shell=shell)(
            **dict(zip(names, values, strict=True)))

    assert received(out) == values


@settings(max_examples=200, deadline=None)
@given(value=ARGUMENT_TEXT, prefix=st.sampled_from(["", "--opt=", "app:"]))
def test_a_quoted_value_is_one_shell_word_whatever_it_holds(value: str, prefix: str) -> None:
    template = CommandTemplate.parse("s", f"prog {prefix}{{v}} end", True)

    _, script = template.fill("s", {"v": value})

    assert shlex.split(script) == ["prog", prefix + value, "end"]


def test_a_shell_step_runs_its_script_with_bin_sh(tmp_path: Path) -> None:
    """The same filled script through the real /bin/sh prints the literal value."""
    template = CommandTemplate.parse("s", "printf '%s' {v}", True)
    argv, _ = template.fill("s", {"v": "$(id) `id` ; id"})

    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=tmp_path)

    assert done.stdout == "$(id) `id` ; id"


# -- how a command is shown ---------------------------------------------------------------------
def sh_reads(line: str) -> list[str]:
    """The words /bin/sh makes of `line` (after a command name)."""
    done = subprocess.run(["/bin/sh", "-c", "printf '%s\\0' " + line], capture_output=True,
                          check=True, timeout=30)
    return done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


@pytest.mark.parametrize(("argv", "shown"), [
    (["python3", "-c", "import sys; print('built app-' + sys.argv[1])", "{last_result}"],
     """python3 -c "import sys; print('built app-' + sys.argv[1])" {last_result}"""),
    (["sh", "-c", "for i in 1 2; do echo $i; done; exit 4"],
     "sh -c 'for i in 1 2; do echo $i; done; exit 4'"),
    (["python3", "-c", 'print("a", \'b\')'], """python3 -c "print(\\"a\\", 'b')\""""),
    (["sh", "-c", "echo 'no' >&2; echo $HOME; exit 3"],
     """sh -c "echo 'no' >&2; echo \\$HOME; exit 3\""""),
    (["sh", "-c", "echo 'hi!'"], """sh -c 'echo '"'"'hi!'"'"''"""),  # `!`: never in ""
    (["git", "tag", "v{tag}"], "git tag v{tag}"),
])
def test_a_script_argument_is_shown_as_a_person_would_type_it(argv: list[str],
                                                               shown: str) -> None:
    template = CommandTemplate.parse("s", argv, False)

    assert template.source == shown
    assert ShellAction("s", argv).preview().lines()[0] == f"$ {shown}"
    assert sh_reads(shown) == argv


@settings(max_examples=150, deadline=None)
@given(argv=st.lists(ARGUMENT_TEXT, min_size=1, max_size=4))
def test_bin_sh_reads_the_display_of_any_argv_back_as_that_argv(argv: list[str]) -> None:
    display = shell_words(argv)

    assert sh_reads(display) == argv
    if "\\" not in display:  # shlex knows fewer backslash escapes than sh
        assert shlex.split(display) == argv


@settings(max_examples=300, deadline=None)
@given(display=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="…")),
       limit=st.integers(20, 120))
def test_a_command_in_a_message_is_one_line_within_the_limit_with_both_ends(
        display: str, limit: int) -> None:
    shown = quoted_command(display, limit)
    quote, text = shown[0], shown[1:-1]
    flat = " ⏎ ".join(line.strip() for line in display.splitlines() if line.strip())

    assert shown[-1] == quote and len(text) <= limit
    assert "\n" not in shown and "\r" not in shown
    holds_quotes = "'" in text or '"' in text
    assert quote == ("`" if holds_quotes and "`" not in text else "'")
    if len(flat) <= limit:
        assert text == flat
    else:  # cut in the middle: the start and the end (exit 4, the last word) are kept
        head, tail = text.split("…")
        assert flat.startswith(head) and flat.endswith(tail)
        assert len(head) > len(tail) > 0 or not tail.strip() or not head.strip()
