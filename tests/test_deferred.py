"""`falyx.deferred`: a module handed out at once and executed on its first use (issue 14).

Each case runs in a fresh interpreter: whether a module has executed is process-wide state.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import subprocess_env


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=subprocess_env(FALYX_HISTORY="off"), timeout=60)


def test_a_deferred_module_executes_on_first_attribute_access_and_once() -> None:
    done = _run("""
        import sys
        from falyx.deferred import deferred
        module = deferred("json.tool")
        assert sys.modules["json.tool"] is module
        assert type(module).__name__ == "_LazyModule"  # not executed yet
        main = module.main  # the first access executes it
        assert type(module).__name__ == "module"
        assert deferred("json.tool") is module and module.main is main
        import json.tool, json
        assert json.tool is module  # bound on its package, as an import binds it
        print("ok")
    """)
    assert done.stdout.strip() == "ok", done.stderr


def test_an_imported_module_is_returned_as_it_is() -> None:
    done = _run("""
        import json, sys
        from falyx.deferred import deferred
        assert deferred("json") is json and type(json).__name__ == "module"
        print("ok")
    """)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("name", ["falyx.no_such_module", "no_such_package_xyz"])
def test_a_missing_module_is_refused_at_once(name: str) -> None:
    done = _run(f"""
        from falyx.deferred import deferred
        try:
            deferred({name!r})
        except ModuleNotFoundError as exc:
            print("refused", exc.name)
    """)
    assert done.stdout.strip() == f"refused {name}", done.stderr


def test_the_engine_executes_its_run_time_modules_on_the_first_run_only() -> None:
    """Defining steps and an app executes none of them; awaiting a step executes them, and
    the step sees its context and records its run."""
    done = _run("""
        import asyncio, sys
        import falyx
        RUN_TIME = ["falyx.context", "falyx.action.options", "falyx.history"]

        def executed(name):
            module = sys.modules.get(name)
            return module is not None and type(module).__name__ != "_LazyModule"

        app = falyx.Falyx("demo")

        @app.command(key="S")
        async def seen() -> str:
            return falyx.current_context().name

        assert [n for n in RUN_TIME if executed(n)] == [], RUN_TIME
        assert asyncio.run(app.run_key("S")) == "seen"
        assert all(executed(n) for n in RUN_TIME)
        assert app.registry.latest().status == "OK"
        print("ok")
    """)
    assert done.stdout.strip() == "ok", done.stderr
