"""Python steps shared by the same workflow written as YAML, TOML and pyproject.toml."""

EVENTS: list[str] = []


def build(target: str = "prod", replicas: int = 1) -> str:
    EVENTS.append(f"build {target} x{replicas}")
    return f"image-{target}"


def undo_build(target: str = "prod", replicas: int = 1) -> None:
    EVENTS.append(f"undo build {target}")


def check_api() -> str:
    return "api ok"


def check_db() -> str:
    return "db ok"


def deploy(last_result: object = None) -> str:
    EVENTS.append(f"deploy after {last_result!r}")
    return "deployed"


def fail() -> None:
    raise RuntimeError("deploy refused")


def square(n: int = 3) -> int:
    return n * n


def note_before(ctx: object) -> None:
    EVENTS.append(f"before {ctx.name}")  # type: ignore[attr-defined]


def note_after(ctx: object) -> None:
    EVENTS.append(f"after {ctx.name} {ctx.status}")  # type: ignore[attr-defined]
