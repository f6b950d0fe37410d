"""Python steps for the bad config files (each file names this module in its refs)."""

NOT_CALLABLE = 42


def build(target: str = "prod") -> str:
    return target


def deploy() -> str:
    return "deployed"


def undo() -> None:
    pass
