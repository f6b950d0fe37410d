"""`falyx init [DIR]`: a starter falyx.yaml and tasks.py that run as they are."""

from __future__ import annotations

from pathlib import Path

from falyx.errors import UsageError

__all__ = ["FILES", "write_starter"]

CONFIG = """\
# Commands of this project: `falyx help` lists them, `falyx run R -y` runs the release,
# `falyx --menu` opens the menu. `falyx check` validates this file without running it.
title: "My project"
commands:
  - key: B
    description: Build the project
    action: tasks:build                  # build() in tasks.py, beside this file
    retry: {max_retries: 2, delay: 0.5}  # up to 2 retries, waiting 0.5s then 1s
    rollback: tasks:clean                # undoes the build if a later step fails
    tags: [ci]

  - key: T
    description: Test the build
    run: ["echo", "tests passed"]        # a program and its arguments; no shell involved
    tags: [ci]

  - key: C
    description: Checks, run at the same time
    group: [tasks:check_lint, tasks:check_types]

  - key: R
    description: Release
    confirm: true                        # asks first; -y skips the question
    chain:
      - B                                # the build command above, with its retry and rollback
      - T
      - C
      - {action: tasks:publish, rollback: tasks:unpublish}
"""

TASKS = '''\
"""Python steps for falyx.yaml: plain functions, sync or async."""

import asyncio


def build(target: str = "dev") -> str:
    """Build the project for `target` (a command-line option: --target)."""
    print(f"building {target}")
    return f"build-{target}"


def clean(target: str = "dev") -> None:
    print(f"cleaning the {target} build")


async def check_lint() -> str:
    """The group's members run at the same time: async functions share the event loop."""
    await asyncio.sleep(0.1)  # stands for real work
    print("lint ok")
    return "lint"


async def check_types() -> str:
    await asyncio.sleep(0.1)
    print("types ok")
    return "types"


def publish() -> str:
    print("published")
    return "published"


def unpublish() -> None:
    print("unpublished")
'''

FILES = {"falyx.yaml": CONFIG, "tasks.py": TASKS}


def write_starter(folder: Path) -> list[Path]:
    """Write falyx.yaml and tasks.py into `folder` (created if missing).

    Raises:
        UsageError: one of the files exists already (nothing is written, nothing is
            overwritten), or the folder cannot be written.
    """
    targets = [folder / name for name in FILES]
    for path in targets:
        if path.exists():
            raise UsageError(f"{path} already exists; not overwriting it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in targets:
            with path.open("x", encoding="utf-8") as out:  # "x": never overwrite, even racing
                out.write(FILES[path.name])
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or folder}: {exc.strerror}") from None
    return targets
