"""Edges of the run-time modules executed on first use (`falyx.deferred`, issue 14).

Each case runs in a fresh interpreter: whether a module has executed is process-wide state.
The thread cases set a 1 µs switch interval, so the interpreter switches threads inside a
module's execution (the schedule a busy machine gives by chance).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import subprocess_env


def _run(code: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=subprocess_env(FALYX_HISTORY="off"), timeout=120,
                          cwd=cwd)


def test_threads_that_use_a_deferred_module_at_once_all_see_it_executed_once(
    tmp_path: pytest.TempPathFactory,
) -> None:
    """One thread executes it; the others wait for it (Python 3.10-3.12.2's LazyLoader let
    them read the half-executed module: AttributeError, or a second execution)."""
    done = _run("""
        import sys, threading
        from pathlib import Path
        from falyx.deferred import deferred
        sys.setswitchinterval(1e-6)
        sys.path.insert(0, ".")
        Path("edge_runs.py").write_text("count = {}\\n")
        body = ("import edge_runs\\n"
                "edge_runs.count[__name__] = edge_runs.count.get(__name__, 0) + 1\\n"
                "FIRST = 1\\nfor _ in range(2000):\\n    pass\\nLAST = FIRST + 1\\n")
        failures = []
        for i in range(30):
            Path(f"edge_mod_{i}.py").write_text(body)
            module = deferred(f"edge_mod_{i}")
            barrier = threading.Barrier(4)

            def use():
                barrier.wait()
                try:
                    assert module.LAST == 2
                except Exception as exc:
                    failures.append(repr(exc))

            threads = [threading.Thread(target=use) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        import edge_runs
        print(failures[:3], sorted(set(edge_runs.count.values())), len(edge_runs.count))
    """, cwd=str(tmp_path))
    assert done.stdout.strip() == "[] [1] 30", done.stdout + done.stderr


def test_threads_that_run_their_first_steps_at_once_all_succeed() -> None:
    """Eight threads each `asyncio.run` a step as the process's first run."""
    done = _run("""
        import asyncio, sys, threading
        import falyx
        sys.setswitchinterval(1e-6)
        step = falyx.Action("work", lambda: 1)
        chained = falyx.ChainedAction("both", [falyx.Action("a", lambda: 2), step],
                                      return_list=True)
        barrier = threading.Barrier(8)
        outcomes = []

        def run(target):
            barrier.wait()
            try:
                outcomes.append(asyncio.run(target()))
            except BaseException as exc:
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=run, args=(step if i % 2 else chained,))
                   for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(sorted(map(str, outcomes)))
    """)
    assert done.stdout.strip() == str(["1"] * 4 + ["[2, 1]"] * 4), done.stdout + done.stderr


def test_a_module_whose_first_execution_fails_fails_again_rather_than_half_executed(
    tmp_path: pytest.TempPathFactory,
) -> None:
    """As a failed import: the error is raised, and the next use executes it again (a Ctrl-C
    in the first run must not leave the engine's records half-defined for the session)."""
    done = _run("""
        import sys
        from pathlib import Path
        from falyx.deferred import deferred
        sys.path.insert(0, ".")
        Path("edge_flaky.py").write_text(
            "from pathlib import Path\\nFIRST = 1\\n"
            "if not Path('ready').exists():\\n    raise KeyboardInterrupt\\nLAST = 2\\n")
        module = deferred("edge_flaky")
        try:
            module.LAST
        except KeyboardInterrupt:
            print("interrupted")
        try:
            module.LAST
        except KeyboardInterrupt:
            print("interrupted again")
        Path("ready").touch()
        print(module.LAST, type(module).__name__)
    """, cwd=str(tmp_path))
    assert done.stdout.split() == ["interrupted", "interrupted", "again", "2", "module"], \
        done.stdout + done.stderr


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_child_forked_while_another_thread_executes_a_module_can_use_it() -> None:
    """The child starts with the first-use lock free, as with the import lock: a thread in
    the parent was executing `json.tool` (lock held, name marked) when the process forked;
    the child executes it on its own first use instead of waiting forever (SIGALRM ends a
    hung child after 20 s, so a regression fails here instead of hanging)."""
    done = _run("""
        import os, signal, threading
        from falyx import deferred as d
        module = d.deferred("json.tool")
        holding, release = threading.Event(), threading.Event()

        def executing():  # what a first use in another thread holds while it executes
            with d._FIRST_USE:
                d._executing.add("json.tool")
                holding.set()
                release.wait()

        thread = threading.Thread(target=executing)
        thread.start()
        holding.wait()
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)
            module.main
            os._exit(0 if type(module).__name__ == "module" else 3)
        _, status = os.waitpid(pid, 0)
        release.set()
        thread.join()
        print("child", os.waitstatus_to_exitcode(status))
    """)
    assert done.stdout.strip() == "child 0", done.stdout + done.stderr


def test_the_hook_alias_resolves_in_type_hints_without_importing_the_context() -> None:
    """`falyx.hooks.Hook` (and `HookSpec`) in a user's annotations, and falyx's signatures
    that use them, resolve with `typing.get_type_hints` as before the context was deferred."""
    done = _run("""
        import sys, typing
        import falyx
        from falyx.hooks import Hook, HookSpec

        def on_done(hook: Hook, spec: HookSpec) -> None: ...

        deferred_yet = type(sys.modules["falyx.context"]).__name__ == "_LazyModule"
        hints = typing.get_type_hints(on_done)
        assert typing.get_args(hints["hook"]) == ([falyx.ExecutionContext], typing.Any), hints
        for fn in (falyx.Falyx.__init__, falyx.Falyx.command, falyx.Falyx.on,
                   falyx.HookManager.register, falyx.BaseAction.__init__):
            typing.get_type_hints(fn)
        print("ok", deferred_yet)
    """)
    assert done.stdout.strip() == "ok True", done.stdout + done.stderr


@pytest.mark.parametrize("limit", [0, -5])
def test_a_bad_history_limit_is_refused_when_the_app_is_defined(limit: int) -> None:
    """As before the registry was made on first use: at `Falyx(...)`, not mid-run."""
    done = _run(f"""
        import sys
        import falyx
        try:
            falyx.Falyx("demo", history_limit={limit})
        except ValueError as exc:
            print(exc)
        print(type(sys.modules["falyx.history"]).__name__ if "falyx.history" in sys.modules
              else "history not loaded")
    """)
    assert done.stdout.splitlines() == [f"history limit must be at least 1, got {limit}",
                                        "history not loaded"], done.stdout + done.stderr


def test_the_registry_is_made_on_first_use_with_the_limit_and_can_be_replaced() -> None:
    """`history_limit` reaches the registry made on first use; a registry assigned before or
    after that is the one runs record into, also for a mounted app's commands."""
    done = _run("""
        import asyncio
        import falyx
        from falyx.history import ExecutionRegistry

        app = falyx.Falyx("demo", history_limit=2)
        sub = falyx.Falyx("sub")
        app.add_submenu("O", "ops", sub)

        @app.command(key="R")
        def ready() -> int:
            return 1

        @sub.command(key="S")
        def sub_step() -> int:
            return 2

        for _ in range(3):
            asyncio.run(app.run_key("R"))
        first = app.registry
        assert first.limit == 2 and len(first.records()) == 2 and sub.registry is first
        mine = ExecutionRegistry(limit=5)
        app.registry = mine
        asyncio.run(app.run_key("O.S"))
        assert sub.registry is mine and mine.latest().status == "OK", mine.records()
        assert len(first.records()) == 2
        early = falyx.Falyx("early")
        early.registry = ExecutionRegistry(limit=3)
        early.add_command("E", "e", lambda: 3)
        asyncio.run(early.run_key("E"))
        assert early.registry.limit == 3 and early.registry.run_count == 1
        print("ok")
    """)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
