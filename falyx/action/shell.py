"""`ShellAction`: run a program (`git`, `kubectl`, `make`) as a step (DESIGN §2.11).

The child runs in a session (and process group) of its own, with stdout and stderr piped:
both stream through to falyx's own as they come, stdout is also captured as the result,
the last lines of stderr go into the error. Cancellation (Ctrl-C, SIGTERM, a timeout)
stops the whole group — SIGTERM, then SIGKILL after `kill_grace` — and waits for it, and
so does a normal exit that leaves processes running in the group: a shell step never
leaves orphans behind (a descendant that leaves the group with `setsid` is out of reach).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from falyx.action.base import BaseAction, PreviewNode
from falyx.action.options import RunOptions
from falyx.action.parameters import REQUIRED_OPTION
from falyx.action.process_group import has_live_members, stop_group
from falyx.action.scopes import shielded
from falyx.action.shell_streams import ShellStreams
from falyx.action.shell_template import CommandTemplate, quoted_command
from falyx.context import ExecutionContext
from falyx.errors import InvalidActionError, ShellCommandError

__all__ = ["ShellAction"]

logger = logging.getLogger("falyx")
T = TypeVar("T")
_MIN_DRAIN = 1.0  # seconds to read what is left in the pipes after the group has gone


if sys.version_info >= (3, 12):  # a task that starts at once saves a turn of the loop

    def _start_task(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        return asyncio.eager_task_factory(asyncio.get_running_loop(), coro)

else:  # pragma: no cover - exercised by the 3.10/3.11 runs of `make test-all`
    _start_task = asyncio.ensure_future


class ShellAction(BaseAction):
    """Run a program through the step lifecycle; the result is its stdout.

    `command` is an argv list, or a string split with `shlex.split`; with `shell=True` it is
    one string run by `/bin/sh -c`. `{name}` placeholders are filled from keyword arguments
    (declared in `params={"name": default}`, `...` meaning required) and `{last_result}`;
    positional arguments and keywords without a placeholder are ignored, as `str.format`
    ignores them (a rollback receives the arguments of the step it undoes). `cwd` is a
    path; `env` adds to the environment. A non-zero exit raises `ShellCommandError` unless
    `check=False`. `kill_grace` is the seconds between SIGTERM and SIGKILL when the step is
    stopped. Other options as for every step (`retry`, `timeout`, `rollback`, `hooks`, ...).
    Raises `InvalidActionError` for a command that cannot run. DESIGN §2.11.
    """

    kind = "ShellAction"
    icon = "$"

    def __init__(
        self,
        name: str,
        command: str | Sequence[str | os.PathLike[str]],
        *,
        shell: bool = False,
        params: Mapping[str, Any] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, Any] | None = None,
        check: bool = True,
        kill_grace: float = 5.0,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self.command = command
        self.shell = shell
        self.template = CommandTemplate.parse(name, command, shell)
        self.params = _check_params(name, params, self.template)
        self.cwd = _check_cwd(name, cwd)
        self.env = _check_env(name, env)
        self.check = check
        if isinstance(kill_grace, bool) or not isinstance(kill_grace, (int, float)) or (
                kill_grace < 0):
            raise ValueError(f"step '{name}': kill_grace must be seconds >= 0, got {kill_grace!r}")
        self.kill_grace = float(kill_grace)
        self._defaults = {k: v for k, v in self.params.items() if v is not ...}

    # -- the parameter protocol ------------------------------------------------------------
    def parameters(self) -> list[inspect.Parameter]:
        """The keyword-only parameters the step takes: `params=`, then undeclared placeholders.

        A parameter's annotation is the type of its default (`str` when required or None);
        a required one has the default `REQUIRED_OPTION` (a required `--name` on the command
        line, DESIGN §2.11). `last_result` is never one.
        """
        injected = {"last_result", self.inject_into}
        out = [_parameter(name, default) for name, default in self.params.items()]
        out.extend(_parameter(name, ...) for name in self.template.placeholders
                   if name not in self.params and name not in injected)
        return out

    def accepts_keyword(self, keyword: str) -> bool:
        return keyword in (self.inject_into, "last_result") or any(
            p.name == keyword for p in self.parameters())

    # -- running ---------------------------------------------------------------------------
    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        # the defaults join the recorded kwargs: history and a rollback see the values used
        return args, {**self._defaults, **kwargs} if self._defaults else kwargs

    async def _run(self, ctx: ExecutionContext) -> str:
        values = ctx.kwargs
        if self.inject_into != "last_result" and self.inject_into in values:
            values = {"last_result": values[self.inject_into], **values}
        argv, display = self.template.fill(self.name, values)
        self._check_cwd_exists(argv, display)
        logger.debug("[%s] $ %s", self.name, display,
                     extra={"action": self.name, "event": "shell_start"})
        returncode, stdout, stderr_tail = await self._run_process(argv, display)
        ctx.extra["returncode"] = returncode
        if returncode != 0 and self.check:
            raise ShellCommandError(
                f"{quoted_command(display)} {_ending(returncode)}{_last_line(stderr_tail)}",
                returncode=returncode, argv=argv, stderr_tail=stderr_tail)
        text = stdout.decode("utf-8", "replace")
        return text[:-1] if text.endswith("\n") else text

    async def _run_process(self, argv: list[str], display: str) -> tuple[int, bytes, str]:
        """Run argv to the end in its own group; (returncode, stdout, stderr tail)."""
        loop = asyncio.get_running_loop()
        streams = ShellStreams()
        env = {**os.environ, **self.env} if self.env else None
        spawn = _start_task(loop.subprocess_exec(
            lambda: streams, *argv, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.cwd, env=env, start_new_session=True))
        try:  # shielded: a cancellation during start-up still gets a child to stop
            transport, _ = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            await shielded(self._abandon(spawn, streams))
            raise
        except OSError as exc:
            raise self._start_error(exc, argv, display) from None
        try:
            await self._wait_for_group(transport.get_pid(), streams, display)
        finally:
            transport.close()
        return transport.get_returncode(), bytes(streams.stdout), streams.stderr_tail()

    async def _wait_for_group(self, pid: int, streams: ShellStreams, display: str) -> None:
        try:
            await streams.exited.wait()
        except asyncio.CancelledError:
            await shielded(stop_group(pid, streams.exited, self.kill_grace))
            raise
        if has_live_members(pid):
            logger.warning("[%s] %s exited and left processes running in its group; "
                           "stopping them.", self.name, quoted_command(display),
                           extra={"action": self.name, "event": "shell_leftovers"})
            await shielded(stop_group(pid, streams.exited, self.kill_grace))
        # the group is gone: the pipes end now, unless a process that left the group keeps them
        await streams.closed.wait(max(self.kill_grace, _MIN_DRAIN))

    async def _abandon(self, spawn: asyncio.Future[Any], streams: ShellStreams) -> None:
        try:
            transport, _ = await spawn
        except Exception:  # it never started: nothing to stop
            return
        try:
            await stop_group(transport.get_pid(), streams.exited, self.kill_grace)
        finally:
            transport.close()

    def _check_cwd_exists(self, argv: list[str], display: str) -> None:
        if self.cwd is not None and not os.path.isdir(self.cwd):
            what = "is not a directory" if os.path.exists(self.cwd) else "does not exist"
            raise ShellCommandError(
                f"{quoted_command(display)} cannot run: working directory '{self.cwd}' {what}",
                argv=argv, retryable=False)

    def _start_error(self, exc: OSError, argv: list[str], display: str) -> ShellCommandError:
        """The shell's wording: 127 for a program not found, 126 for one that cannot run."""
        if self.cwd is not None and exc.filename == self.cwd:  # removed since the check
            self._check_cwd_exists(argv, display)
        program = argv[0]
        if isinstance(exc, FileNotFoundError):
            code, why = 127, ("command not found" if os.sep not in program
                              else "No such file or directory")
        else:
            code, why = 126, exc.strerror or type(exc).__name__
        return ShellCommandError(f"{quoted_command(display)} exited with {code}: {program}: {why}",
                                 returncode=code, argv=argv, stderr_tail="", retryable=False)

    # -- presentation ------------------------------------------------------------------------
    def preview(self, options: RunOptions | None = None) -> PreviewNode:
        """`$ git tag {tag}`, with retry, timeout, rollback and working directory lines."""
        node = PreviewNode(f"$ {self.template.source}")
        node.children.extend(self._detail_nodes(options))
        if self.cwd is not None:
            node.children.append(PreviewNode(f"📁 cwd: {self.cwd}"))
        return node

    def __repr__(self) -> str:
        return f"ShellAction(name={self.name!r}, command={self.template.source!r})"


def _parameter(name: str, default: Any) -> inspect.Parameter:
    required = default is ...
    annotation = str if required or default is None else type(default)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=REQUIRED_OPTION if required else default)


def _check_params(step: str, params: Mapping[str, Any] | None,
                  template: CommandTemplate) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidActionError(f"step '{step}': params must be a mapping of name to default, "
                                 f"got {params!r}")
    for name in params:
        if not isinstance(name, str) or not name.isidentifier() or name == "last_result":
            raise InvalidActionError(f"step '{step}': params name {name!r} must be an "
                                     "identifier other than 'last_result'")
        if name not in template.placeholders:
            raise InvalidActionError(f"step '{step}': params declares {name!r} but the command "
                                     f"has no {{{name}}} placeholder: {template.source}")
    return dict(params)


def _check_cwd(step: str, cwd: Any) -> str | None:
    if cwd is None:
        return None
    if not isinstance(cwd, (str, os.PathLike)) or not os.fspath(cwd):
        raise InvalidActionError(f"step '{step}': cwd must be a path, got {cwd!r}")
    return os.fsdecode(cwd)


def _check_env(step: str, env: Mapping[str, Any] | None) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise InvalidActionError(f"step '{step}': env must be a mapping, got {env!r}")
    out = {}
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise InvalidActionError(f"step '{step}': env name {key!r} is not a variable name")
        if isinstance(value, os.PathLike):
            value = os.fsdecode(value)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (
                "\0" in str(value)):
            raise InvalidActionError(f"step '{step}': env {key}={value!r} must be a string, "
                                     "a number or a path (env only adds variables)")
        out[key] = str(value)
    return out


def _ending(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


def _last_line(stderr_tail: str) -> str:
    lines = [line.strip() for line in stderr_tail.splitlines() if line.strip()]
    return f": {_one_line(lines[-1])}" if lines else ""


def _one_line(text: str, limit: int = 160) -> str:
    text = text.strip().replace("\r", "").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
