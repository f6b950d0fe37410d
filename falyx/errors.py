"""One exception tree for falyx; every class carries the CLI exit code it maps to."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

if sys.version_info >= (3, 11):
    _ExceptionGroup = ExceptionGroup  # noqa: F821 - builtin from 3.11
else:  # pragma: no cover - exercised by the 3.10 run of `make test-all`
    from exceptiongroup import ExceptionGroup as _ExceptionGroup

__all__ = [
    "ActionGroupError",
    "CommandNotFound",
    "ConfigError",
    "ConfirmationDeclined",
    "ConfirmationRequired",
    "EmptyChainError",
    "EmptyGroupError",
    "ExecutorError",
    "FalyxError",
    "InvalidActionError",
    "NotPicklableError",
    "RegistrationError",
    "RemoteError",
    "RollbackError",
    "ShellCommandError",
    "StepTimeoutError",
    "UsageError",
]


class FalyxError(Exception):
    """Base of every error falyx raises on purpose."""

    exit_code: int = 1
    #: Control-flow and definition errors are never retried.
    retryable: bool = False


class UsageError(FalyxError):
    """The user asked for something that cannot be done as asked."""

    exit_code = 2


class CommandNotFound(UsageError):
    """No command has the given key, alias or name."""


class ConfigError(UsageError):
    """A configuration file or value is invalid."""


class ConfirmationRequired(UsageError):
    """A confirmation is needed but there is no terminal to ask on."""


class ConfirmationDeclined(FalyxError):
    """The user answered no to a confirmation prompt."""


class RegistrationError(FalyxError):
    """A command cannot be registered (duplicate key, app already started)."""


class InvalidActionError(FalyxError, TypeError):
    """A step was defined with something that cannot run."""


class EmptyChainError(FalyxError):
    """A chain with no steps was run."""


class EmptyGroupError(FalyxError):
    """A group with no members was run."""


class NotPicklableError(FalyxError):
    """A process step's callable or arguments cannot be sent to another process."""


class ExecutorError(UsageError, ValueError):
    """An executor spec is invalid, or the executor it names cannot be reached or started."""


class RemoteError(FalyxError):
    """An exception raised in a worker that could not be sent back as itself.

    Carries the original type's name (`exc_type`), its message (`exc_message`) and the
    worker's traceback text (`remote_traceback`). DESIGN §2.14.
    """

    retryable = True

    def __init__(self, exc_type: str, exc_message: str, remote_traceback: str = "") -> None:
        super().__init__(f"{exc_type}: {exc_message}" if exc_message else exc_type)
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.remote_traceback = remote_traceback

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.exc_type, self.exc_message, self.remote_traceback)


class RollbackError(FalyxError):
    """A step failed and undoing the completed steps failed too (exit code 3).

    The failed step's own exception is what a run raises; its `rollback_errors` list holds
    the rollback exceptions, and `RollbackError.exit_code` is the CLI's exit code for it.
    """

    exit_code = 3


class ShellCommandError(FalyxError):
    """A shell step's program failed: a non-zero exit, a signal, or it could not start.

    `returncode` is the exit status (negative: killed by that signal; 127 / 126: the program
    was not found / could not be executed; None: it never started, e.g. a missing `cwd`);
    `argv` the argument list that ran (`/bin/sh -c SCRIPT` with `shell=True`); `stderr_tail`
    its last 20 lines of stderr. A failure to start is not retried. DESIGN §2.11.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        returncode: int | None = None,
        argv: Sequence[str] = (),
        stderr_tail: str = "",
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.argv = list(argv)
        self.stderr_tail = stderr_tail
        self.retryable = retryable


class StepTimeoutError(FalyxError, TimeoutError):
    """One attempt of a step ran past its timeout."""

    retryable = True


class ActionGroupError(FalyxError, _ExceptionGroup):
    """Some members of a group failed; holds every failure and the successful results."""

    retryable = True

    def __new__(
        cls, message: str, exceptions: Sequence[Exception], results: Sequence[Any] = ()
    ) -> ActionGroupError:
        self = super().__new__(cls, message, list(exceptions))
        self.results = list(results)
        return self

    def __init__(
        self, message: str, exceptions: Sequence[Exception], results: Sequence[Any] = ()
    ) -> None:
        super().__init__(message, list(exceptions))

    def derive(self, excs: Sequence[Exception]) -> ActionGroupError:  # type: ignore[override]
        return ActionGroupError(self.message, excs, self.results)

    def __str__(self) -> str:
        return self.message
