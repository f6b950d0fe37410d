"""Python steps for the bad config files (each file names this module in its refs)."""

NOT_CALLABLE = 42


def build(target: str = "prod") -> str:
    return target


def deploy() -> str:
    return "deployed"


def undo() -> None:
    pass


def no_args_hook() -> None:
    pass


def two_args_hook(ctx: object, other: object) -> None:
    pass


def keyword_only_hook(*, ctx: object) -> None:
    pass


def good_hook(ctx: object) -> None:
    pass
