"""RetryPolicy: validation, resolution, attempts, waits, what is never retried, logs, timeouts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from falyx import Action, ActionGroup, ChainedAction, ProcessAction, ProcessPoolAction, RetryPolicy
from falyx.action.options import RunOptions, current_options, using_options
from falyx.errors import EmptyChainError, FalyxError, StepTimeoutError
from falyx.history import ExecutionRegistry
from falyx.retry import resolve_retry
from tests.helpers_engine import isolated_run, square

EXAMPLES = settings(max_examples=60, deadline=None)

policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(0, 6),
    delay=st.floats(0, 10, allow_nan=False),
    backoff=st.floats(0, 4, allow_nan=False),
    jitter=st.just(0.0),
    max_delay=st.none() | st.floats(0, 20, allow_nan=False),
)
jittered_policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(1, 6),
    delay=st.floats(0, 10, allow_nan=False),
    backoff=st.floats(0, 4, allow_nan=False),
    jitter=st.floats(0.001, 3, allow_nan=False),
    max_delay=st.none() | st.floats(0, 20, allow_nan=False),
)


class Flaky:
    """A step body that fails `failures` times with 'Random failure!', then returns `value`."""

    def __init__(self, failures: int = 10**9, value: Any = "done") -> None:
        self.failures = failures
        self.value = value
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("Random failure!")
        return self.value


# -- validation and resolution -----------------------------------------------------------


@pytest.mark.parametrize("field", ["max_retries", "delay", "backoff", "jitter", "max_delay"])
def test_negative_policy_values_raise_value_error(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: -1})


@pytest.mark.parametrize("field", ["max_retries", "delay", "backoff", "jitter", "max_delay"])
@pytest.mark.parametrize("value", [True, "3"])
def test_bool_or_str_policy_values_raise_type_error(field: str, value: Any) -> None:
    with pytest.raises(TypeError, match=field):
        RetryPolicy(**{field: value})


def test_retry_on_must_hold_exception_types() -> None:
    with pytest.raises(TypeError, match="retry_on"):
        RetryPolicy(retry_on=("ValueError",))  # type: ignore[arg-type]
    assert RetryPolicy(retry_on=KeyError).retry_on == (KeyError,)  # type: ignore[arg-type]


def test_policy_exposes_its_settings_and_attempt_count() -> None:
    policy = RetryPolicy(max_retries=4, delay=0.5, backoff=3.0, jitter=0.1, max_delay=2.0,
                         retry_on=(OSError,))
    assert (policy.max_retries, policy.delay, policy.backoff) == (4, 0.5, 3.0)
    assert (policy.jitter, policy.max_delay, policy.retry_on) == (0.1, 2.0, (OSError,))
    assert policy.attempts == 5


def test_default_policy_matches_the_contract() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.delay, policy.backoff, policy.jitter) == (3, 1.0, 2.0, 0.0)
    assert policy.max_delay is None
    assert policy.retry_on == (Exception,)


def test_retry_true_resolves_to_the_default_policy() -> None:
    assert resolve_retry(True) == RetryPolicy()
    assert Action("s", lambda: None, retry=True).retry_policy == RetryPolicy()


def test_retry_int_resolves_to_that_many_retries() -> None:
    assert Action("s", lambda: None, retry=5).retry_policy == RetryPolicy(max_retries=5)


def test_retry_policy_object_is_used_as_given() -> None:
    policy = RetryPolicy(max_retries=1, delay=0.25)
    assert Action("s", lambda: None, retry=policy).retry_policy is policy


@pytest.mark.parametrize("retry", [False, None])
def test_retry_false_or_none_means_no_policy(retry: Any) -> None:
    assert Action("s", lambda: None, retry=retry).retry_policy is None


def test_retry_policy_argument_takes_precedence_over_retry() -> None:
    policy = RetryPolicy(max_retries=2)
    assert Action("s", lambda: None, retry=7, retry_policy=policy).retry_policy is policy


def test_bad_retry_specs_are_rejected() -> None:
    with pytest.raises(TypeError, match="retry"):
        Action("s", lambda: None, retry="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="retry_policy"):
        Action("s", lambda: None, retry_policy=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_retries"):
        Action("s", lambda: None, retry=-1)


@pytest.mark.parametrize(
    "make",
    [
        lambda **o: Action("s", square, **o),
        lambda **o: ChainedAction("s", [square], **o),
        lambda **o: ActionGroup("s", [square], **o),
        lambda **o: ProcessAction("s", square, **o),
        lambda **o: ProcessPoolAction("s", [square], **o),
    ],
    ids=["Action", "ChainedAction", "ActionGroup", "ProcessAction", "ProcessPoolAction"],
)
def test_every_step_kind_accepts_retry_and_retry_policy(make: Any) -> None:
    policy = RetryPolicy(max_retries=1)
    assert make(retry=2).retry_policy == RetryPolicy(max_retries=2)
    assert make(retry_policy=policy).retry_policy is policy


# -- attempts and waits (hypothesis) ---------------------------------------------------


@EXAMPLES
@given(policy=policies)
async def test_persistent_failure_makes_one_plus_max_retries_attempts(policy: RetryPolicy) -> None:
    body = Flaky()
    with isolated_run() as (registry, sleep), pytest.raises(RuntimeError, match="Random failure!"):
        await Action("step_1", body, retry=policy)()
    record = registry.latest()
    assert body.calls == 1 + policy.max_retries
    assert record is not None and record.attempts == 1 + policy.max_retries
    assert record.status == "ERROR"
    assert len(sleep.waits) == policy.max_retries


@EXAMPLES
@given(data=st.data(), max_retries=st.integers(0, 6),
       value=st.none() | st.integers() | st.text(max_size=5))
async def test_recovery_at_attempt_k_returns_the_value(
    data: st.DataObject, max_retries: int, value: Any
) -> None:
    k = data.draw(st.integers(1, 1 + max_retries), label="succeeding attempt")
    body = Flaky(failures=k - 1, value=value)
    with isolated_run() as (registry, sleep):
        result = await Action("step_1", body, retry=max_retries)()
    record = registry.latest()
    assert result == value
    assert body.calls == k
    assert record is not None and (record.status, record.attempts) == ("OK", k)
    assert record.result == value
    assert len(sleep.waits) == k - 1


@EXAMPLES
@given(policy=policies)
async def test_waits_follow_capped_exponential_backoff_without_jitter(policy: RetryPolicy) -> None:
    with isolated_run() as (_, sleep), pytest.raises(RuntimeError):
        await Action("step_1", Flaky(), retry=policy)()
    expected = []
    for k in range(1, policy.max_retries + 1):
        wait = policy.delay * policy.backoff ** (k - 1)
        expected.append(wait if policy.max_delay is None else min(policy.max_delay, wait))
    assert sleep.waits == expected


@EXAMPLES
@given(policy=jittered_policies)
async def test_jittered_waits_stay_within_jitter_and_never_below_zero(policy: RetryPolicy) -> None:
    with isolated_run() as (_, sleep), pytest.raises(RuntimeError):
        await Action("step_1", Flaky(), retry=policy)()
    assert len(sleep.waits) == policy.max_retries
    for k, wait in enumerate(sleep.waits, start=1):
        base = policy.delay * policy.backoff ** (k - 1)
        if policy.max_delay is not None:
            base = min(policy.max_delay, base)
        assert wait >= 0.0
        assert max(0.0, base - policy.jitter) - 1e-9 <= wait <= base + policy.jitter + 1e-9


def test_jitter_can_be_drawn_below_the_base_but_is_clamped_at_zero() -> None:
    policy = RetryPolicy(delay=0.1, jitter=5.0)
    waits = [policy.wait_for(1) for _ in range(200)]
    assert min(waits) == 0.0
    assert all(0.0 <= w <= 5.1 for w in waits)


async def test_policy_sleep_is_used_when_the_run_injects_none() -> None:
    waits: list[float] = []

    async def my_sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(max_retries=2, delay=0.5, sleep=my_sleep)
    with using_options(RunOptions(registry=ExecutionRegistry())), pytest.raises(RuntimeError):
        await Action("step_1", Flaky(), retry=policy)()
    assert waits == [0.5, 1.0]


async def test_a_fresh_retrying_object_counts_attempts_per_call(registry, fake_sleep) -> None:
    step = Action("step_1", Flaky(failures=1), retry=2)
    await asyncio.gather(step(), step())  # two calls share one body; each has its own count
    assert sorted(r.attempts for r in registry.records(name="step_1")) == [1, 2]


# -- never retried ---------------------------------------------------------------------


async def _raise(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize(
    "exc_type", [KeyboardInterrupt, asyncio.CancelledError, SystemExit], ids=lambda t: t.__name__
)
async def test_base_exceptions_are_never_retried(registry, fake_sleep, exc_type: type) -> None:
    calls = []

    async def body() -> None:
        calls.append(1)
        raise exc_type()

    with pytest.raises(exc_type):
        await Action("step_1", body, retry=3)()
    assert calls == [1]
    assert fake_sleep.waits == []
    assert registry.latest().status == "CANCELLED"


@pytest.mark.parametrize("exc", [typer.Exit(3), typer.Abort()], ids=["Exit", "Abort"])
async def test_typer_exit_and_abort_are_never_retried(registry, fake_sleep, exc) -> None:
    calls = []

    async def body() -> None:
        calls.append(1)
        raise exc

    with pytest.raises(type(exc)):
        await Action("step_1", body, retry=3)()
    assert calls == [1]
    assert fake_sleep.waits == []


async def test_falyx_control_flow_errors_are_never_retried(registry, fake_sleep) -> None:
    empty = ChainedAction("empty", [], retry=3)
    with pytest.raises(EmptyChainError):
        await empty()
    assert fake_sleep.waits == []
    assert registry.latest().attempts == 1


async def test_plain_falyx_errors_are_not_retried(registry, fake_sleep) -> None:
    calls = []

    async def body() -> None:
        calls.append(1)
        raise FalyxError("stop here")

    with pytest.raises(FalyxError):
        await Action("step_1", body, retry=3)()
    assert calls == [1]


async def test_exceptions_outside_retry_on_are_not_retried(registry, fake_sleep) -> None:
    calls = []

    async def body() -> None:
        calls.append(1)
        raise KeyError("missing")

    with pytest.raises(KeyError):
        await Action("step_1", body, retry=RetryPolicy(retry_on=(ValueError,)))()
    assert calls == [1]
    assert fake_sleep.waits == []


async def test_exceptions_in_retry_on_are_retried(registry, fake_sleep) -> None:
    calls = []

    async def body() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("flaky network")
        return "ok"

    result = await Action("step_1", body, retry=RetryPolicy(retry_on=(OSError,)))()
    assert (result, len(calls)) == ("ok", 3)


# -- log lines ---------------------------------------------------------------------------


async def test_retry_logs_the_seed_lines_exactly(registry, falyx_log) -> None:
    with pytest.raises(RuntimeError):
        await Action("step_1", Flaky(), retry=True)()
    lines = [(r.levelno, r.getMessage()) for r in falyx_log.records if r.name == "falyx"]
    assert (logging.INFO, "[step_1] Retrying (1/3) in 1.0s due to 'Random failure!'...") in lines
    assert (logging.WARNING, "[step_1] Retry attempt 1/3 failed due to 'Random failure!'.") in lines
    assert (logging.INFO, "[step_1] Retrying (3/3) in 4.0s due to 'Random failure!'...") in lines
    assert (logging.WARNING, "[step_1] Retry attempt 3/3 failed due to 'Random failure!'.") in lines
    retrying = [m for _, m in lines if "Retrying" in m]
    failed = [m for _, m in lines if "Retry attempt" in m]
    assert (len(retrying), len(failed)) == (3, 3)


async def test_retry_log_names_the_message_not_the_class(registry, falyx_log) -> None:
    with pytest.raises(RuntimeError):
        await Action("step_1", Flaky(), retry=1)()
    messages = [r.getMessage() for r in falyx_log.records]
    assert all("RuntimeError" not in m for m in messages if "Retr" in m)


# -- timeouts ----------------------------------------------------------------------------


async def _wait_forever() -> None:
    await asyncio.Event().wait()


async def test_timeout_raises_step_timeout_error_naming_the_step(registry) -> None:
    with pytest.raises(StepTimeoutError, match="'hang'") as info:
        await Action("hang", _wait_forever, timeout=0.01)()
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, FalyxError)
    assert registry.latest().status == "ERROR"


async def test_timeout_applies_per_attempt_and_is_retried(registry, fake_sleep) -> None:
    calls = []

    async def body() -> None:
        calls.append(1)
        await asyncio.Event().wait()

    with pytest.raises(StepTimeoutError):
        await Action("hang", body, timeout=0.01, retry=2)()
    assert len(calls) == 3
    assert registry.latest().attempts == 3
    assert len(fake_sleep.waits) == 2


async def test_timeout_then_success_on_retry_returns_the_value(registry) -> None:
    calls = []

    async def body() -> str:
        calls.append(1)
        if len(calls) == 1:
            await asyncio.Event().wait()
        return "second time"

    assert await Action("hang", body, timeout=0.01, retry=1)() == "second time"


@pytest.mark.parametrize("timeout", [0, -1, True])
def test_timeout_must_be_a_positive_number(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        Action("s", square, timeout=timeout)


# -- run-time policies (retry_all and CLI overrides) ---------------------------------------


def _run_options(fake_sleep: Any, **options: Any) -> RunOptions:
    return RunOptions(registry=current_options().registry, sleep=fake_sleep, **options)


async def test_leaf_policy_retries_leaves_without_their_own_policy(registry, fake_sleep) -> None:
    body, own = Flaky(failures=2), Flaky(failures=1)
    pipeline = ChainedAction("c", [Action("leaf", body), Action("own", own, retry=1)])
    with using_options(_run_options(fake_sleep, leaf_policy=RetryPolicy(max_retries=2))):
        assert await pipeline() == "done"
    attempts = {r.name: r.attempts for r in registry.records()}
    assert attempts == {"leaf": 3, "own": 2, "c": 1}  # the chain itself is not re-run
    assert pipeline.actions[0].retry_policy is None


async def test_leaf_policy_never_reruns_a_chain_without_its_own_retry(registry, fake_sleep) -> None:
    options = _run_options(fake_sleep, leaf_policy=RetryPolicy(max_retries=1))
    with using_options(options), pytest.raises(RuntimeError):
        await ChainedAction("c", [Action("leaf", Flaky())])()
    attempts = {r.name: r.attempts for r in registry.records()}
    assert attempts == {"leaf": 2, "c": 1}


async def test_overrides_change_every_policy_in_effect(registry, fake_sleep) -> None:
    body = Flaky()
    step = Action("step_1", body, retry=RetryPolicy(max_retries=5, delay=3.0))
    options = _run_options(fake_sleep, overrides={"max_retries": 1, "delay": 0.5})
    with using_options(options), pytest.raises(RuntimeError):
        await step()
    assert body.calls == 2 and fake_sleep.waits == [0.5]
    assert step.retry_policy == RetryPolicy(max_retries=5, delay=3.0)


async def test_overrides_give_the_root_a_policy_when_it_has_none(registry, fake_sleep) -> None:
    body = Flaky()
    step = Action("step_1", body)
    options = _run_options(fake_sleep, root=step, overrides={"max_retries": 2})
    with using_options(options), pytest.raises(RuntimeError):
        await step()
    assert body.calls == 3
    assert step.retry_policy is None
