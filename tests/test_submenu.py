"""Submenus in code (DESIGN §2.12): mounting, clashes, cycles, paths, labels and hooks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Falyx, HookType
from falyx.errors import CommandNotFound, RegistrationError
from falyx.submenu import command_pattern


def tree() -> tuple[Falyx, Falyx, Falyx]:
    """root (R, O -> ops), ops (R, S, D -> db), db (V)."""
    root = Falyx("Root", program="root")
    ops = Falyx("Ops tools", program="ops")
    db = Falyx("DB tools", program="db")
    root.add_command("R", "Release", lambda: "released", name="release")
    ops.add_command("R", "Restart", lambda: "restarted", name="restart-db", aliases=["RS"])
    ops.add_command("S", "Status", lambda: "ok", name="status")
    db.add_command("V", "Vacuum", lambda table="all": f"vacuumed {table}", name="vacuum")
    ops.add_submenu("D", "Database", db)
    root.add_submenu("O", "Ops", ops)
    return root, ops, db


# -- paths ---------------------------------------------------------------------------------
def test_a_path_of_keys_aliases_or_names_reaches_a_submenus_command() -> None:
    root, ops, db = tree()

    assert root.get("O.R") is ops.get("R")
    assert root.get("o.rs") is ops.get("R")                 # an alias, any case
    assert root.get("ops.restart-db") is ops.get("R")       # CLI names
    assert root.get("O.D.V") is root.get("ops.db.vacuum") is db.get("V")
    assert root.get("R").description == "Release"          # the root's own R is untouched
    assert root.entry("O").app is ops and root.entry("O.D").app is db


@pytest.mark.parametrize(("key", "message"), [
    ("O.RR", "unknown command 'O.RR'; did you mean 'O.R'?"),
    ("O.D.VV", "unknown command 'O.D.VV'; did you mean 'O.D.V'?"),
    ("OO", "unknown command 'OO'; did you mean 'O'?"),
    ("ops.restart", "unknown command 'ops.restart'; did you mean 'ops.restart-db'?"),
    ("R.X", "'R' is a command, not a menu"),
    ("O", "'O' opens the menu 'Ops'; name one of its commands, e.g. 'O.R'"),
])
def test_a_bad_path_names_where_it_went_wrong_with_a_suggestion(key: str, message: str) -> None:
    root, _, _ = tree()

    with pytest.raises(CommandNotFound) as caught:
        root.get(key)
    assert str(caught.value) == message


async def test_run_key_runs_a_submenus_command_recorded_in_the_root_as_its_path() -> None:
    root, ops, db = tree()

    assert await root.run_key("O.D.V", table="users") == "vacuumed users"
    assert await root.run_key("O.R") == "restarted"
    assert await ops.run_key("S") == "ok"            # from the mounted app itself: the same
    assert await root.run_key("R") == "released"

    runs = [c for c in root.registry.records() if c.parent is None]
    assert [(c.command, c.result) for c in runs] == [
        ("O.D.V", "vacuumed users"), ("O.R", "restarted"), ("O.S", "ok"), ("R", "released")]
    assert ops.registry is db.registry is root.registry
    assert {c.command for c in root.registry.records(command="O.*")} == {"O.D.V", "O.R", "O.S"}
    assert [c.command for c in root.registry.records(command="o.d.*")] == ["O.D.V", "O.D.V"]


async def test_mounting_later_relabels_a_sub_app_that_already_ran() -> None:
    root = Falyx("Root", program="root")
    ops = Falyx("Ops", program="ops")
    ops.add_command("R", "Restart", lambda: "restarted")
    await ops.run_key("R")
    assert ops.registry.latest().command == "R"

    root.add_submenu("O", "Ops", ops)
    await ops.run_key("R")

    assert root.registry.latest().command == "O.R"


async def test_app_hooks_of_every_app_above_run_for_a_submenus_command() -> None:
    root, ops, db = tree()
    seen: list[tuple[str, str | None]] = []
    root.hooks.register(HookType.AFTER, lambda ctx: seen.append(("root", ctx.command)))
    ops.hooks.register(HookType.AFTER, lambda ctx: seen.append(("ops", ctx.command)))
    db.hooks.register(HookType.AFTER, lambda ctx: seen.append(("db", ctx.command)))

    await root.run_key("O.D.V")
    await root.run_key("O.R")
    await root.run_key("R")

    assert seen == [("db", "O.D.V"), ("ops", "O.D.V"), ("root", "O.D.V"),
                    ("ops", "O.R"), ("root", "O.R"), ("root", "R")]


# -- clashes -------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "name", "holder"), [
    ("R", "other", "command 'R' (Release)"),
    ("rel", "other", "command 'R' (Release)"),              # an alias of R
    ("O", "other", "submenu 'O' (Ops)"),
    ("H", "other", "the built-in 'Help'"),
    ("y", "other", "the built-in 'History'"),
    ("X", "other", "the built-in 'Exit'"),
])
def test_a_submenu_key_clash_names_both(key: str, name: str, holder: str) -> None:
    root = Falyx("Root", program="root")
    root.add_command("R", "Release", lambda: None, aliases=["REL"], name="release")
    root.add_submenu("O", "Ops", Falyx("Ops", program="ops"))

    with pytest.raises(RegistrationError) as caught:
        root.add_submenu(key, "New", Falyx("New", program="new"), name=name)
    assert str(caught.value) == f"submenu key {key.upper()!r} is already used by {holder}"
    assert list(root.submenus) == ["O"]


@pytest.mark.parametrize(("name", "holder"), [
    ("release", "command 'R' (Release)"),
    ("ops", "submenu 'O' (Ops)"),
    ("run", "the built-in command 'run'"),
    ("history", "the built-in command 'history'"),
    ("run-all", "the built-in command 'run-all'"),
])
def test_a_submenu_name_clash_names_both(name: str, holder: str) -> None:
    root = Falyx("Root", program="root")
    root.add_command("R", "Release", lambda: None, name="release")
    root.add_submenu("O", "Ops", Falyx("Ops", program="ops"))

    with pytest.raises(RegistrationError, match=f"submenu name '{name}' is already used by "
                       f"{holder.replace('(', '[(]').replace(')', '[)]')}; pass name="):
        root.add_submenu("Q", "New", Falyx("New", program="new"), name=name)


def test_a_command_added_after_a_submenu_cannot_take_its_key_or_name() -> None:
    root = Falyx("Root", program="root")
    root.add_submenu("O", "Ops", Falyx("Ops", program="ops"))

    with pytest.raises(RegistrationError, match=r"'O' is already used by submenu 'O' \(Ops\)"):
        root.add_command("o", "Open", lambda: None, name="open")
    with pytest.raises(RegistrationError, match="'ops' is already used by submenu 'O'"):
        root.add_command("P", "Ops again", lambda: None, name="ops")
    assert root.commands == {}


def test_the_sub_group_name_is_the_program_given_else_the_description() -> None:
    root = Falyx("Root", program="root")
    named = root.add_submenu("A", "Anything", Falyx("A", program="ops"))
    described = root.add_submenu("B", "Data Tools", Falyx("B"))
    odd = root.add_submenu("C", "🔧 !", Falyx("C"))
    explicit = root.add_submenu("D", "Deploy", Falyx("D", program="x"), name="dep")

    assert [named.cli_name, described.cli_name, odd.cli_name, explicit.cli_name] == [
        "ops", "data-tools", "c", "dep"]
    with pytest.raises(ValueError, match="name must be one word"):
        root.add_submenu("E", "E", Falyx("E"), name="two words")


@pytest.mark.parametrize("bad", ["O.R", "A.", ".B"])
def test_a_key_or_alias_with_a_dot_is_refused_it_separates_paths(bad: str) -> None:
    app = Falyx("Root", program="root")

    with pytest.raises(RegistrationError, match="separates the keys of a submenu path"):
        app.add_command(bad, "Dotted", lambda: None, name="dotted")
    with pytest.raises(RegistrationError, match="separates the keys of a submenu path"):
        app.add_command("K", "Dotted alias", lambda: None, aliases=[bad], name="dotted")
    with pytest.raises(RegistrationError, match="separates the keys of a submenu path"):
        app.add_submenu(bad, "Dotted", Falyx("Sub", program="sub"))


# -- B goes back ---------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["key", "alias", "submenu"])
def test_an_app_using_b_cannot_be_mounted_b_goes_back_in_a_submenu(how: str) -> None:
    root, child = Falyx("Root", program="root"), Falyx("Builds", program="builds")
    if how == "key":
        child.add_command("B", "Build", lambda: None)
    elif how == "alias":
        child.add_command("K", "Build", lambda: None, aliases=["b"])
    else:
        child.add_submenu("B", "Branches", Falyx("Branches", program="branches"))

    with pytest.raises(RegistrationError) as caught:
        root.add_submenu("U", "Builds", child)
    assert "in a submenu 'B' goes back" in str(caught.value)
    assert "'Builds'" in str(caught.value) and "give it another key" in str(caught.value)
    assert root.submenus == {} and child.mount is None


def test_a_mounted_app_refuses_b_later_and_a_root_app_may_use_it() -> None:
    root, child = Falyx("Root", program="root"), Falyx("Ops", program="ops")
    root.add_command("B", "Build", lambda: None)                 # at the root B is free
    root.add_submenu("O", "Ops", child)

    with pytest.raises(RegistrationError, match="'B' is already used by the built-in 'Back'"):
        child.add_command("B", "Bounce", lambda: None)
    with pytest.raises(RegistrationError, match="'B' is already used by the built-in 'Back'"):
        child.add_submenu("B", "Branches", Falyx("Branches", program="branches"))


# -- cycles and single mounts --------------------------------------------------------------
def test_mounting_an_app_inside_itself_is_refused_directly_or_through_others() -> None:
    root, ops, db = tree()

    with pytest.raises(RegistrationError, match=r"would contain itself \('Root' > 'Root'\)"):
        root.add_submenu("Z", "Me", root)
    with pytest.raises(RegistrationError,
                       match=r"would contain itself \('Ops tools' > 'DB tools' > 'Ops tools'\)"):
        db.add_submenu("Z", "Ops again", ops)
    with pytest.raises(RegistrationError,
                       match=r"\('Root' > 'Ops tools' > 'DB tools' > 'Root'\)"):
        db.add_submenu("Z", "Root again", root)
    assert db.submenus == {} and root.mount is None


def test_an_app_is_mounted_in_one_place() -> None:
    root, _, db = tree()
    other = Falyx("Other", program="other")

    with pytest.raises(RegistrationError, match="'DB tools' is already mounted under 'D' of "
                       "'Ops tools'; an app is mounted in one place"):
        other.add_submenu("D", "Database", db)
    with pytest.raises(RegistrationError, match="already mounted"):
        root.add_submenu("Q", "Database again", db)


async def test_nothing_registers_in_a_tree_whose_root_has_started() -> None:
    root, ops, db = tree()
    await root.run_key("R")

    with pytest.raises(RegistrationError, match="already started"):
        db.add_command("W", "Wipe", lambda: None)
    with pytest.raises(RegistrationError, match="already started"):
        ops.add_submenu("Q", "More", Falyx("More", program="more"))


def test_a_command_added_to_a_mounted_app_reaches_the_roots_cli() -> None:
    from falyx.testing import run_cli

    root, _, db = tree()
    compiled = root.typer  # compiled before the registration, never run
    db.add_command("W", "Wipe", lambda: print("wiped"), name="wipe")
    assert root.typer is not compiled

    result = run_cli(root, ["ops", "db", "wipe"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "wiped\n"


# -- what `history --command` asks for ------------------------------------------------------
@pytest.mark.parametrize(("where", "text", "pattern"), [
    ("root", None, None),
    ("root", "O.R", "O.R"),
    ("root", "ops.restart-db", "O.R"),
    ("root", "o.rs", "O.R"),
    ("root", "O", "O.*"),
    ("root", "O.D", "O.D.*"),
    ("root", "r", "R"),
    ("root", "gone", "GONE"),               # a command no longer registered: as recorded
    ("root", "o.*", "O.*"),
    ("ops", None, "O.*"),
    ("ops", "R", "O.R"),
    ("ops", "O.R", "O.R"),                  # the label as the root records it
    ("ops", "D.V", "O.D.V"),
    ("ops", "D", "O.D.*"),
    ("ops", "gone", "O.GONE"),
    ("db", None, "O.D.*"),
    ("db", "v", "O.D.V"),
])
def test_history_command_reads_keys_from_the_app_asked(
    where: str, text: str | None, pattern: str | None
) -> None:
    root, ops, db = tree()
    app = {"root": root, "ops": ops, "db": db}[where]

    assert command_pattern(app, text) == pattern


# -- invariants ----------------------------------------------------------------------------
KEYS = st.sampled_from(["A", "C", "D", "E", "G"])


@st.composite
def app_trees(draw: st.DrawFn, depth: int = 0) -> dict:
    """A tree spec: command keys, and submenus (key -> spec), at most three deep."""
    commands = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
    free = [k for k in ["K", "M", "N"] if k not in commands]
    subs = {} if depth >= 2 else draw(st.dictionaries(
        st.sampled_from(free), app_trees(depth + 1), max_size=2))
    return {"commands": commands, "submenus": subs}


def build(spec: dict, path: str = "") -> tuple[Falyx, dict[str, str]]:
    """The app for `spec`, and each command's expected label -> the value it returns."""
    app = Falyx(f"app {path or 'root'}", program=f"p{path.replace('.', '_')}")
    expected: dict[str, str] = {}
    for key in spec["commands"]:
        label = f"{path}.{key}" if path else key
        app.add_command(key, f"cmd {label}", (lambda value=label: value), name=f"c-{key.lower()}")
        expected[label] = label
    for key, sub_spec in spec["submenus"].items():
        sub_path = f"{path}.{key}" if path else key
        sub, below = build(sub_spec, sub_path)
        app.add_submenu(key, f"menu {sub_path}", sub, name=f"m-{key.lower()}")
        expected.update(below)
    return app, expected


@settings(max_examples=40, deadline=None)
@given(spec=app_trees())
async def test_every_command_of_a_tree_runs_by_its_path_and_records_it(spec: dict) -> None:
    root, expected = build(spec)

    for label in expected:
        assert await root.run_key(label) == expected[label]
    runs = [c for c in root.registry.records() if c.parent is None]
    assert [c.command for c in runs] == list(expected)


@settings(max_examples=40, deadline=None)
@given(spec=app_trees(), data=st.data())
def test_no_mount_ever_closes_a_cycle(spec: dict, data: st.DataObject) -> None:
    root, _ = build(spec)
    apps = [root]
    for app in apps:
        apps.extend(s.app for s in app.submenus.values())
    host, guest = data.draw(st.sampled_from(apps)), data.draw(st.sampled_from(apps))
    before = {id(a): (dict(a.submenus), a.mount) for a in apps}

    with pytest.raises(RegistrationError):  # every app of the tree is mounted, or is the root
        host.add_submenu("Z", "again", guest, name="z")

    assert {id(a): (dict(a.submenus), a.mount) for a in apps} == before
