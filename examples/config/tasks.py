"""Python steps of the release runbook (falyx.yaml): plain functions, sync or async."""

import asyncio


async def run_tests() -> str:
    await asyncio.sleep(0.05)
    print("tests passed")
    return "42 passed"


def check_api() -> str:
    print("api ok")
    return "api"


def check_db() -> str:
    print("db ok")
    return "db"


def rotate_logs() -> int:
    print("rotated 3 log files")
    return 3
