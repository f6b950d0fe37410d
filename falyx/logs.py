"""Console logging for the `falyx` logger: rich lines or one JSON object per line (§2.9)."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

__all__ = ["JSONFormatter", "setup_logging"]

_FIELDS = ("action", "event", "attempt", "duration", "status")
_MARK = "_falyx_handler"


class JSONFormatter(logging.Formatter):
    """One strict JSON object per line: ts, level, logger, message, action, event, attempt, ...

    A field's value goes out as `falyx.history_row.json_value` gives it (a path as its text,
    NaN or an object as its repr string), so every line is valid JSON.
    """

    def format(self, record: logging.LogRecord) -> str:
        from falyx.history_row import json_value

        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            payload[name] = json_value(getattr(record, name, None))
        if record.exc_info and record.exc_info[0] is not None:
            payload["traceback"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, allow_nan=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes: while a spinner runs, that is
    its stream, which prints the line above the spinner (`falyx.live_streams`)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys.stderr


def setup_logging(verbose: bool = False, log_format: str | None = None) -> logging.Handler:
    """(Re)install the one console handler of the `falyx` logger, writing to stderr.

    On a terminal the rich handler draws through the console the spinner uses
    (`falyx.render.make_console`), so log lines never land on the spinner's line.
    """
    fmt = (log_format or os.environ.get("FALYX_LOG_FORMAT") or "rich").lower()
    logger = logging.getLogger("falyx")
    for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(handler)
    handler: logging.Handler
    if fmt == "json":
        handler = _StderrHandler()
        handler.setFormatter(JSONFormatter())
    elif not sys.stderr.isatty():  # a log file or a pipe: plain lines, no wrapping
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(
            "[%(asctime)s] %(levelname)-8s %(message)s", "%Y-%m-%d %H:%M:%S"))
    else:
        from rich.logging import RichHandler

        from falyx.render import make_console

        handler = RichHandler(console=make_console(), show_path=False, markup=False,
                              rich_tracebacks=False, log_time_format="[%Y-%m-%d %H:%M:%S]")
    setattr(handler, _MARK, True)
    level = logging.DEBUG if verbose else logging.WARNING
    handler.setLevel(level)
    logger.setLevel(level)
    logger.addHandler(handler)
    logger.propagate = False
    return handler
