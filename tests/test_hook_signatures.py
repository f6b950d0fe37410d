"""A hook that cannot be called as `hook(ctx)` is refused where it is registered (DESIGN §2.2).

Every registration path refuses it with one error naming the hook, its type and what it must
accept; every form that works (a function of `ctx`, `*args`, a bound method, a callable
object, a `functools.partial`, an async function) is registered and receives the context.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from falyx import Action, ExecutionContext, Falyx, HookManager, chain
from falyx.command import Command
from falyx.config import ConfigFileError, load
from tests.conftest import subprocess_env


async def body() -> str:
    return "done"


# -- refused forms -----------------------------------------------------------------------------
def no_args() -> None:
    pass


def two_required(ctx: Any, other: Any) -> None:
    pass


def keyword_only(*, ctx: Any) -> None:
    pass


def keywords_only(**kwargs: Any) -> None:
    pass


async def async_no_args() -> None:
    pass


class NoArgCall:
    def __call__(self) -> None:
        pass


class Holder:
    def __init__(self, seen: list[str] | None = None) -> None:
        self.seen = seen if seen is not None else []

    def method_without_ctx(self) -> None:
        pass

    def method(self, ctx: ExecutionContext) -> None:
        self.seen.append(f"method:{ctx.name}")


def labelled(label: str, ctx: ExecutionContext, seen: list[str]) -> None:
    seen.append(f"{label}:{ctx.name}")


REFUSED: dict[str, tuple[Callable[..., Any], str]] = {  # the hook and its name in the message
    "no parameters": (no_args, "no_args"),
    "two required positionals": (two_required, "two_required"),
    "keyword-only ctx": (keyword_only, "keyword_only"),
    "only **kwargs": (keywords_only, "keywords_only"),
    "async without parameters": (async_no_args, "async_no_args"),
    "lambda without parameters": (lambda: None, "<lambda>"),
    "callable object without parameters": (NoArgCall(), "NoArgCall object"),
    "bound method without ctx": (Holder().method_without_ctx, "Holder.method_without_ctx"),
    "partial with every argument bound": (
        functools.partial(labelled, "x", None, []), "partial(labelled)"),
}

# every registration path: (path name, a function registering `hook` under `hook_type`)
PATHS: dict[str, Callable[[str, Any], Any]] = {
    "Action(hooks=)": lambda t, h: Action("s", body, hooks={t: h}),
    "Action(hooks=) list": lambda t, h: Action("s", body, hooks={t: [print, h]}),
    "Command(hooks=)": lambda t, h: Command("K", "k", body, hooks={t: h}),
    "add_command(hooks=)": lambda t, h: Falyx("t").add_command("K", "k", body, hooks={t: h}),
    "@app.command(hooks=)": lambda t, h: Falyx("t").command(key="K", hooks={t: h})(body),
    "Falyx(hooks=)": lambda t, h: Falyx("t", hooks={t: h}),
    "app.hooks.register": lambda t, h: Falyx("t").hooks.register(t, h),
    "@app.on": lambda t, h: Falyx("t").on(t)(h),
    "register_hooks_recursively": lambda t, h: chain(body, body).register_hooks_recursively(t, h),
    "HookManager.coerce": lambda t, h: HookManager.coerce({t: h}),
}
EXPECTED_TYPE = {"before": "before", "error": "on_error", "success": "on_success",
                 "after": "after", "teardown": "on_teardown"}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("form", sorted(REFUSED))
@pytest.mark.parametrize("hook_type", ["before", "error"])
def test_every_path_refuses_a_hook_that_cannot_take_the_context(
        path: str, form: str, hook_type: str) -> None:
    hook, name = REFUSED[form]
    with pytest.raises(TypeError) as caught:
        PATHS[path](hook_type, hook)
    message = str(caught.value)
    assert message.startswith(f"{EXPECTED_TYPE[hook_type]} hook '{name}' must accept one "
                              "positional argument, the step's ExecutionContext")
    assert "its signature is (" in message
    assert "\n" not in message


def test_a_refused_hook_leaves_nothing_registered() -> None:
    steps = chain(body, body)
    with pytest.raises(TypeError):
        steps.register_hooks_recursively("after", no_args)
    assert not any(step.hooks for step in steps.walk())
    app = Falyx("t")
    with pytest.raises(TypeError):
        app.on("error")(no_args)
    assert not app.hooks


# -- accepted forms: registered, and each gets the context when the step runs -----------------
def accepted_forms(seen: list[str]) -> dict[str, Callable[..., Any]]:
    """Each working form of hook, appending `form:step name` to `seen` when called."""

    def plain(ctx: ExecutionContext) -> None:
        seen.append(f"plain:{ctx.name}")

    def star_args(*args: Any) -> None:
        seen.append(f"star:{args[0].name}")

    def with_optional(ctx: ExecutionContext, extra: int = 1, *, flag: bool = False) -> None:
        seen.append(f"optional:{ctx.name}")

    async def coroutine(ctx: ExecutionContext) -> None:
        seen.append(f"async:{ctx.name}")

    class Recorder:
        def __call__(self, ctx: ExecutionContext) -> None:
            seen.append(f"object:{ctx.name}")

    return {
        "function of ctx": plain,
        "*args": star_args,
        "ctx and optional parameters": with_optional,
        "async function": coroutine,
        "callable object": Recorder(),
        "bound method": Holder(seen).method,
        "functools.partial": functools.partial(labelled, "partial", seen=seen),
        "lambda": lambda ctx: seen.append(f"lambda:{ctx.name}"),
    }


@pytest.mark.parametrize("path", sorted(set(PATHS) - {"HookManager.coerce"}))
def test_every_path_registers_each_working_form(path: str) -> None:
    for hook in accepted_forms([]).values():
        PATHS[path]("after", hook)  # no error


@pytest.mark.parametrize("form", sorted(accepted_forms([])))
async def test_each_working_form_receives_the_context(form: str, registry) -> None:
    seen: list[str] = []
    hook = accepted_forms(seen)[form]
    assert await Action("step_1", body, hooks={"after": hook})() == "done"
    assert len(seen) == 1
    assert seen[0].endswith(":step_1")


async def test_app_level_hooks_of_each_form_run_for_a_command(registry) -> None:
    seen: list[str] = []
    app = Falyx("t")
    for hook in accepted_forms(seen).values():
        app.on("success")(hook)
    app.add_command("K", "k", body)
    assert await app.run_key("K") == "done"
    assert len(seen) == len(accepted_forms([]))
    assert len({entry.split(":")[0] for entry in seen}) == len(seen)  # each form once


def test_a_builtin_without_a_readable_signature_is_left_to_the_call() -> None:
    manager = HookManager()
    manager.register("after", print)
    assert manager.hooks("after") == [print]


# -- the invariant: registration accepts exactly the hooks a call hook(ctx) can reach ---------
@given(required=st.integers(0, 3), optional=st.integers(0, 2), star=st.booleans(),
       kw_required=st.integers(0, 1), kw_optional=st.integers(0, 1), star_kw=st.booleans())
def test_registration_accepts_exactly_what_a_call_with_the_context_binds(
        required: int, optional: int, star: bool, kw_required: int, kw_optional: int,
        star_kw: bool) -> None:
    params = [f"p{i}" for i in range(required)] + [f"o{i}=None" for i in range(optional)]
    params += ["*args"] if star else (["*"] if kw_required or kw_optional else [])
    params += [f"k{i}" for i in range(kw_required)] + [f"q{i}=None" for i in range(kw_optional)]
    params += ["**kwargs"] if star_kw else []
    namespace: dict[str, Any] = {}
    exec(f"def hook({', '.join(params)}):\n    return 'called'", namespace)
    hook = namespace["hook"]
    try:
        hook(object())
        callable_with_ctx = True
    except TypeError:
        callable_with_ctx = False
    try:
        HookManager().register("before", hook)
        registered = True
    except TypeError:
        registered = False
    assert registered == callable_with_ctx


# -- config: the position of the hook's ref, from load and from `falyx check` ------------------
def _write(folder: Path, hooks: str) -> Path:
    (folder / "h.py").write_text("def noargs(): print('noargs hook')\n"
                                 "def good(ctx): print('good hook', ctx.name)\n"
                                 "def work(): print('work'); return 1\n")
    config = folder / "falyx.yaml"
    config.write_text("title: hk\ncommands:\n  - key: A\n    description: a\n"
                      f"    action: h:work\n    hooks: {hooks}\n")
    return config


@pytest.mark.parametrize(("hooks", "where", "hook_type"), [
    ("{before: h:noargs}", "6:13: commands[0].hooks.before", "before"),
    ("{success: [h:good, h:noargs]}", "6:31: commands[0].hooks.success[1]", "on_success"),
    ("{teardown: [h:noargs]}", "6:24: commands[0].hooks.teardown[0]", "on_teardown"),
])
def test_a_config_hook_that_cannot_take_the_context_is_a_problem_at_its_ref(
        hooks: str, where: str, hook_type: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "h", raising=False)
    config = _write(tmp_path, hooks)
    with pytest.raises(ConfigFileError) as caught:
        load(config)
    assert [str(p) for p in caught.value.problems] == [
        f"{config}:{where}: ref 'h:noargs': {hook_type} hook 'noargs' must accept one "
        "positional argument, the step's ExecutionContext (hooks are called as hook(ctx)); "
        "its signature is ()"]


@pytest.mark.slow
def test_falyx_check_reports_the_hook_and_a_good_hook_runs(tmp_path: Path) -> None:
    _write(tmp_path, "{before: h:noargs}")
    done = subprocess.run([sys.executable, "-m", "falyx", "check"], cwd=tmp_path,
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "falyx.yaml:6:13: commands[0].hooks.before: ref 'h:noargs': before hook 'noargs' must "
        "accept one positional argument, the step's ExecutionContext (hooks are called as "
        "hook(ctx)); its signature is ()"]
    _write(tmp_path, "{before: h:good}")
    done = subprocess.run([sys.executable, "-m", "falyx", "run", "A", "-y"], cwd=tmp_path,
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["good hook a", "work"]
