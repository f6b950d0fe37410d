"""`RetryPolicy`: a small frozen value that produces tenacity retrying objects."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from falyx.errors import FalyxError

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

__all__ = ["RetryPolicy", "RetrySpec", "resolve_retry"]

logger = logging.getLogger("falyx")
_jitter_rng = random.Random()  # private: never consumes or depends on the user's random state
Sleep = Callable[[float], Awaitable[Any]]


def _is_frontend_exit(exc: BaseException) -> bool:
    """True for typer/click's Exit and Abort, recognised without importing them."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in {"typer", "click"} and type(exc).__name__ in {"Exit", "Abort"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a failing step.

    The wait before retry k (1-based) is `min(max_delay, delay * backoff**(k-1))` plus a
    uniform offset in `[-jitter, +jitter]`, never below zero.
    """

    max_retries: int = 3
    delay: float = 1.0
    backoff: float = 2.0
    jitter: float = 0.0
    max_delay: float | None = None
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    sleep: Sleep | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_retries", "delay", "backoff", "jitter", "max_delay"):
            value = getattr(self, name)
            if value is None and name == "max_delay":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"RetryPolicy.{name} must be a number, got {value!r}")
            if value < 0:
                raise ValueError(f"RetryPolicy.{name} must be >= 0, got {value!r}")
        retry_on = self.retry_on
        if isinstance(retry_on, type):
            retry_on = (retry_on,)
        if not all(isinstance(t, type) and issubclass(t, BaseException) for t in retry_on):
            raise TypeError(f"RetryPolicy.retry_on must be exception types, got {retry_on!r}")
        object.__setattr__(self, "retry_on", tuple(retry_on))
        if self.max_retries != int(self.max_retries):
            raise ValueError(f"RetryPolicy.max_retries must be a whole number, got "
                             f"{self.max_retries!r}")
        object.__setattr__(self, "max_retries", int(self.max_retries))

    @property
    def attempts(self) -> int:
        """Total attempts: the first one plus `max_retries`."""
        return 1 + self.max_retries

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def base_wait(self, retry: int) -> float:
        """The wait before retry `retry` (1-based), without jitter."""
        wait = self.delay * self.backoff ** (retry - 1)
        return wait if self.max_delay is None else min(self.max_delay, wait)

    def wait_for(self, retry: int, rng: random.Random | None = None) -> float:
        """The wait before retry `retry`, with jitter, never negative."""
        wait = self.base_wait(retry)
        if self.jitter:
            wait += (rng or _jitter_rng).uniform(-self.jitter, self.jitter)
        return max(0.0, wait)

    def should_retry(self, exc: BaseException) -> bool:
        """Whether `exc` may be retried under this policy."""
        if not isinstance(exc, Exception) or _is_frontend_exit(exc):
            return False
        if isinstance(exc, FalyxError) and not exc.retryable:
            return False
        return isinstance(exc, self.retry_on)

    def describe(self) -> str:
        """The preview line, e.g. `Retries: 3x, delay 1.0s, backoff 2.0x`."""
        text = f"Retries: {self.max_retries}x, delay {self.delay}s, backoff {self.backoff}x"
        if self.jitter:
            text += f", jitter ±{self.jitter}s"
        if self.max_delay is not None:
            text += f", max delay {self.max_delay}s"
        return text

    def retrying(self, name: str, sleep: Sleep | None = None) -> AsyncRetrying:
        """A fresh tenacity `AsyncRetrying` for one call of the step called `name`."""
        import asyncio

        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        def wait(state: RetryCallState) -> float:
            return self.wait_for(state.attempt_number)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.info(
                "[%s] Retrying (%d/%d) in %ss due to '%s'...",
                name, state.attempt_number, self.max_retries,
                round(state.upcoming_sleep, 3), exc,
                extra={"action": name, "event": "retry", "attempt": state.attempt_number},
            )

        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception(self.should_retry),
            sleep=sleep or self.sleep or asyncio.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


RetrySpec = Union[bool, int, RetryPolicy, None]


def resolve_retry(retry: RetrySpec, retry_policy: RetryPolicy | None = None) -> RetryPolicy | None:
    """Turn the `retry=` / `retry_policy=` options into one policy, or None."""
    if retry_policy is not None:
        if not isinstance(retry_policy, RetryPolicy):
            raise TypeError(f"retry_policy must be a RetryPolicy, got {retry_policy!r}")
        return retry_policy
    if retry is None or retry is False:
        return None
    if retry is True:
        return RetryPolicy()
    if isinstance(retry, RetryPolicy):
        return retry
    if isinstance(retry, int):
        return RetryPolicy(max_retries=retry)
    raise TypeError(f"retry must be a bool, an int or a RetryPolicy, got {retry!r}")
