"""Steps from config specs, built with the public step API (`Action`, `chain`, `group`, ...)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from falyx.action import Action, ActionGroup, BaseAction, ChainedAction
from falyx.config.advice import config_advice
from falyx.config.problems import DocPath, Problem
from falyx.config.refs import RefError, is_ref, resolve_callable, resolve_exception
from falyx.config.schema import RetrySpec, StepBody, StepSpec
from falyx.config.source import Document
from falyx.errors import FalyxError
from falyx.hooks import check_hook
from falyx.retry import RetryPolicy

__all__ = ["NOT_A_KEY", "StepFactory"]

#: What `lookup_key` returns for a word that is no command key of the file.
NOT_A_KEY = object()
_BUILD_ERRORS = (FalyxError, TypeError, ValueError)


class StepFactory:
    """Builds steps for one config file, recording each problem at its place.

    `lookup_key(key, path)` gives the action of the command with that key (None when that
    command is broken or forms a cycle, already reported), or `NOT_A_KEY`. A step at a path
    in `partial` (some of its fields invalid, see `validate.Conversion`) is built all the
    same, so that its refs, keys and options are checked, but comes back as None.
    """

    def __init__(
        self,
        doc: Document,
        looked_in: Sequence[str],
        env: dict[str, str],
        lookup_key: Callable[[str, DocPath], Any],
        problems: list[Problem],
        partial: set[DocPath] | None = None,
    ) -> None:
        self.doc = doc
        self.partial = partial or set()
        self.looked_in = list(looked_in)
        self.env = env
        self.lookup_key = lookup_key
        self.problems = problems
        self.keys: list[str] = []  # for "did you mean"

    # -- steps -------------------------------------------------------------------------
    def step(
        self, spec: str | StepBody | None, path: DocPath, name: str | None = None
    ) -> BaseAction | None:
        """A step from a key, a ref or a mapping; None if it has problems (recorded).

        `spec` None is a step nothing of which converted (its problems are recorded).
        """
        if spec is None:
            return None
        if isinstance(spec, str):
            return self._named(spec, path)
        built = self._built(spec, path, name)
        return None if path in self.partial else built

    def _built(self, spec: StepBody, path: DocPath, name: str | None) -> BaseAction | None:
        """The step; with an option that failed (reported), its body is still built, for
        its own problems, and None returned."""
        options, options_ok = self._options(spec, path)
        name = getattr(spec, "name", None) if isinstance(spec, StepSpec) else name
        try:
            built = getattr(self, "_" + spec.body)(spec, path, name, options)
        except _BUILD_ERRORS as exc:
            message = config_advice(str(exc))
            self.report(_field_named(spec, path, message), message)
            return None
        return built if options_ok else None

    def _named(self, text: str, path: DocPath) -> BaseAction | None:
        found = self.lookup_key(text, path)
        if found is not NOT_A_KEY:
            return found
        if is_ref(text):
            fn = self.callable(text, path)
            return None if fn is None else Action(getattr(fn, "__name__", text), fn)
        close = difflib.get_close_matches(text.upper(), self.keys, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else "write 'pkg.module:function' for Python"
        self.report(path, f"step '{text}' is neither a command key of this file nor an import "
                          f"ref; {hint}")
        return None

    def _action(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        fn = self.callable(spec.action, (*path, "action"))  # type: ignore[arg-type]
        if fn is None:
            return None
        return Action(name or fn.__name__, fn, args=spec.args or (), kwargs=spec.kwargs,
                      **options)

    def _process(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        fn = self.callable(spec.process, (*path, "process"))  # type: ignore[arg-type]
        if fn is None:
            return None
        from falyx.action import ProcessAction  # its pools and pickling: only when used

        return ProcessAction(name or fn.__name__, fn, args=spec.args or (), kwargs=spec.kwargs,
                             executor=spec.executor, **options)

    def _run(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        return self._shell_step(spec, spec.run, False, name, options)

    def _shell(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        return self._shell_step(spec, spec.shell, True, name, options)

    def _shell_step(self, spec: StepBody, command: Any, shell: bool, name: str | None,
                    options: dict) -> Any:
        from falyx.action import ShellAction

        env = {**self.env, **{k: str(v) for k, v in (spec.env or {}).items()}}
        cwd = self.doc.file.parent / (spec.cwd or ".")
        program = command if shell or isinstance(command, str) else " ".join(command)
        return ShellAction(name or _program_name(program), command, shell=shell,
                           params=_params(spec.params), cwd=str(cwd), env=env or None, **options)

    def _chain(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        steps = self._members(spec.chain or [], (*path, "chain"))
        if steps is None:
            return None
        return ChainedAction(name or " -> ".join(s.name for s in steps) or "chain", steps,
                             auto_inject=bool(spec.auto_inject),
                             return_list=bool(spec.return_list), **options)

    def _group(self, spec: StepBody, path: DocPath, name: str | None, options: dict) -> Any:
        steps = self._members(spec.group or [], (*path, "group"))
        if steps is None:
            return None
        return ActionGroup(name or " & ".join(s.name for s in steps) or "group", steps,
                           fail_fast=bool(spec.fail_fast), **options)

    def _members(self, specs: list[Any], path: DocPath) -> list[BaseAction] | None:
        steps = [self.step(s, (*path, i)) for i, s in enumerate(specs)]
        return None if any(s is None for s in steps) else steps  # type: ignore[return-value]

    # -- options -----------------------------------------------------------------------
    def _options(self, spec: StepBody, path: DocPath) -> tuple[dict[str, Any], bool]:
        """`retry`, `timeout`, `rollback`, `hooks` and injection, as step keyword args, and
        whether all of them could be built (those that could not are left out)."""
        built: dict[str, Any] = {}
        if spec.retry is not None and spec.retry is not False:
            built["retry_policy"] = self.retry_policy(spec.retry, (*path, "retry"))
        if spec.rollback is not None:
            built["rollback"] = self._rollback(spec.rollback, (*path, "rollback"))
        if spec.hooks:
            built["hooks"] = self.hooks(spec.hooks, (*path, "hooks"))
        options = {k: v for k, v in built.items() if v is not None}
        if spec.timeout is not None:
            options["timeout"] = spec.timeout
        if spec.inject_last_result is not None:
            options["inject_last_result"] = spec.inject_last_result
        if spec.inject_into is not None:
            options["inject_into"] = spec.inject_into
        return options, all(v is not None for v in built.values())

    def _rollback(self, spec: str | StepSpec, path: DocPath) -> Any:
        """A ref's function itself (as `rollback=undo` in Python), or a step (key, mapping)."""
        if isinstance(spec, str) and is_ref(spec) and self.lookup_key(spec, path) is NOT_A_KEY:
            return self.callable(spec, path)
        return self.step(spec, path)

    def retry_policy(self, retry: bool | int | RetrySpec, path: DocPath) -> RetryPolicy | None:
        """`true`, a number of retries, or policy fields, as a `RetryPolicy`."""
        if not isinstance(retry, RetrySpec):
            return RetryPolicy() if retry is True else RetryPolicy(max_retries=retry)
        retry_on: list[type[BaseException]] = []
        for i, name in enumerate(retry.retry_on or ()):
            try:
                retry_on.append(resolve_exception(name, self.looked_in))
            except RefError as exc:
                self.report((*path, "retry_on", i), str(exc))
        if retry.retry_on and len(retry_on) != len(retry.retry_on):
            return None
        return RetryPolicy(max_retries=retry.max_retries, delay=retry.delay,
                           backoff=retry.backoff, jitter=retry.jitter,
                           max_delay=retry.max_delay, retry_on=tuple(retry_on) or (Exception,))

    def hooks(self, spec: dict[str, str | list[str]], path: DocPath) -> dict | None:
        """`{hook type: [callables]}` from refs."""
        hooks: dict[str, list[Any]] = {}
        ok = True
        for hook_type, refs in spec.items():
            for i, ref in enumerate([refs] if isinstance(refs, str) else refs):
                where = (*path, hook_type) if isinstance(refs, str) else (*path, hook_type, i)
                fn = self.callable(ref, where)
                if fn is not None:
                    try:
                        check_hook(hook_type, fn)
                    except TypeError as exc:
                        self.report(where, f"ref '{ref}': {exc}")
                        fn = None
                ok = ok and fn is not None
                hooks.setdefault(hook_type, []).append(fn)
        return hooks if ok else None

    def callable(self, ref: str, path: DocPath) -> Any:
        """The callable a ref names, or None (the problem recorded at `path`)."""
        try:
            return resolve_callable(ref, self.looked_in)
        except RefError as exc:
            self.report(path, str(exc))
            return None

    def report(self, path: DocPath, message: str) -> None:
        if not self.doc.moot(path):
            self.problems.append(self.doc.problem(path, message))


def _field_named(spec: StepBody, path: DocPath, message: str) -> DocPath:
    """The step's field a build error is about (`executor`, `params`, ...), else the step."""
    for field in ("params", "executor", "cwd", "env", "inject_into"):
        if getattr(spec, field) is not None and re.search(rf"\b{field}\b", message):
            return (*path, field)
    if spec.body in ("run", "shell") and "placeholder" in message:
        return (*path, spec.body)
    return path


def _program_name(command: str) -> str:
    words = command.split()
    return Path(words[0]).name if words else "shell"


def _params(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """`'...'` in a file means required, as `...` does in Python (DESIGN §2.11)."""
    if params is None:
        return None
    return {name: ... if value == "..." else value for name, value in params.items()}
