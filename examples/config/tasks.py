"""Python steps of the release runbook (falyx.yaml, ops.yaml): plain functions, sync or async."""

import asyncio


async def unit_tests() -> str:
    await asyncio.sleep(0.05)
    print("tests passed")
    return "42 passed"


def rotate_logs(keep: int = 3) -> int:
    """Rotate the logs, keeping the newest `keep` files (an option: --keep)."""
    print(f"rotated the logs, kept {keep}")
    return keep
