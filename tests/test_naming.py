"""Command-line names derived from text keep the letters of every script (DESIGN §2.5, §2.12,
§2.13): from a step's name, a submenu's description, a config command's description."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx import Falyx
from falyx.action import Action
from falyx.naming import cli_name_from, is_cli_name, name_words
from falyx.testing import run_cli
from tests.conftest import subprocess_env

#: (text, its CLI name, its words): Latin accents, Greek, CJK, Devanagari (marks), emoji.
CASES = [
    ("Ümlaut cmd", "ümlaut-cmd", ["ümlaut", "cmd"]),
    ("grüße_senden", "grüße-senden", ["grüße", "senden"]),
    ("Éditer  la façade", "éditer-la-façade", ["éditer", "la", "façade"]),
    ("Αναφορά κατάστασης", "αναφορά-κατάστασης", ["αναφορά", "κατάστασης"]),
    ("部署 应用", "部署-应用", ["部署", "应用"]),
    ("हिन्दी पाठ", "हिन्दी-पाठ", ["हिन्दी", "पाठ"]),
    ("🚀 Deploy tools", "deploy-tools", ["deploy", "tools"]),
    ("❤️ love 👍🏽", "love", ["love"]),
    ("e\u0301te\u0301", "été", ["été"]),  # decomposed accents: one letter each
    ("build_image", "build-image", ["build", "image"]),
]


@pytest.mark.parametrize(("text", "name", "words"), CASES)
def test_names_keep_letters_of_every_script_and_drop_emoji(text: str, name: str,
                                                          words: list[str]) -> None:
    assert cli_name_from(text) == name
    assert name_words(text) == words
    assert is_cli_name(name)


@pytest.mark.parametrize("text", ["<lambda>", "a -> b", "x.y", "🚀", "", "  "])
def test_text_with_other_punctuation_or_no_word_gives_no_name(text: str) -> None:
    assert cli_name_from(text) is None


@pytest.mark.parametrize("name", ["-x", "_x", "a b", "a.b", "🚀x", "", "x🚀"])
def test_malformed_names_are_refused(name: str) -> None:
    assert not is_cli_name(name)


@given(st.text(max_size=30))
def test_a_derived_name_is_always_a_well_formed_lower_case_name(text: str) -> None:
    name = cli_name_from(text)
    assert name is None or (is_cli_name(name) and name == name.lower())
    assert all(is_cli_name(word) for word in name_words(text))


def unicode_app() -> Falyx:
    app = Falyx("unicode", program="uni")
    app.add_command("U", "Umlaut", Action("Ümlaut cmd", lambda: "u"))
    app.add_command("G", "Greek", Action("Αναφορά", lambda: "g"))
    app.add_command("C", "CJK", Action("部署", lambda: "c"))
    app.add_command("R", "Rocket", Action("🚀 launch", lambda: "r"))
    app.add_command("L", "Lambda", lambda: "l")  # '<lambda>': the key instead

    def grüße_senden() -> str:
        return "hallo"

    app.command(key="S")(grüße_senden)
    sub = Falyx("Ωmega tools")
    sub.add_command("O", "Ok", Action("ok", lambda: "ok"))
    app.add_submenu("W", "Ωmega tools 🛠", sub)
    return app


@pytest.mark.parametrize(("argv", "result"), [
    (["ümlaut-cmd"], "u"), (["αναφορά"], "g"), (["部署"], "c"), (["launch"], "r"),
    (["l"], "l"), (["grüße-senden"], "hallo"), (["ωmega-tools", "ok"], "ok"),
])
def test_python_app_subcommands_are_named_in_their_script(argv: list[str], result: str
                                                          ) -> None:
    ran = run_cli(unicode_app(), [*argv, "-y", "--json"])
    assert ran.exit_code == 0, ran.stderr
    assert f'"result": "{result}"' in ran.stdout


def test_config_command_named_from_a_non_ascii_description(tmp_path: Path) -> None:
    (tmp_path / "falyx.yaml").write_text(
        "title: keys\ncommands:\n"
        "  - {key: Ä, description: Ümlaut cmd, run: [echo, umlaut]}\n"
        "  - {key: G, description: Ελέγχος συστήματος, run: [echo, greek]}\n"
        "  - {key: C, description: 检查 系统, run: [echo, cjk]}\n"
        "  - {key: E, description: 🚀 Launch it, run: [echo, rocket]}\n"
        "  - {key: N, name: größe, description: Named, run: [echo, named]}\n",
        encoding="utf-8")
    for name, printed in (("ümlaut", "umlaut"), ("ελέγχος", "greek"), ("检查", "cjk"),
                          ("launch", "rocket"), ("größe", "named")):
        done = subprocess.run([sys.executable, "-m", "falyx", name, "-y"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60,
                              env=subprocess_env())
        assert (done.returncode, done.stdout) == (0, printed + "\n"), done.stderr
