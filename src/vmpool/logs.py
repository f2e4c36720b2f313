"""The daemon's log lines: plain text for a terminal, or one JSON object per line for a log
shipper (`log_format`, python-json-logger).

Every line is a record of the standard `logging` module; in JSON its `extra` fields are keys
of their own. A record logged while a request is served carries the request's id
(`request_id`, as in the `X-Request-ID` header and the audit trail). Two loggers write the
lines that describe the daemon's work:

- `vmpool.access`: one line per API request (`request_id`, `method`, `route`, `path`,
  `status`, `duration_ms`): api/request_audit.py. uvicorn's own access log is off.
- `vmpool.jobs`: one line per run of a background job (`job`, `duration_ms`, `outcome`):
  scheduler/jobs.py. In text mode these show only at `log_level = "debug"`, but for runs
  that did not end `ok` (a terminal would drown in them: several runs a second).
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from vmpool.services.audit import current_request_id

LogFormat = Literal["text", "json"]

ACCESS_LOGGER = "vmpool.access"
JOBS_LOGGER = "vmpool.jobs"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The keys every JSON line starts with (after `time`); `extra` fields follow.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_RENAMED = {"levelname": "level", "name": "logger"}
# A record's attributes that are not keys of their own (uvicorn's color_message repeats the
# message with terminal colours).
JSON_LEFT_OUT = [*RESERVED_ATTRS, "color_message"]


class RequestIdFilter(logging.Filter):
    """Gives a record logged while a request is served that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


def json_formatter() -> logging.Formatter:
    """`{"time": ISO 8601 UTC, "level", "logger", "message", ...extra fields}`; an exception
    as `exc_info` (its traceback, one string)."""
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields=JSON_RENAMED,
        reserved_attrs=JSON_LEFT_OUT,
        timestamp="time",
        json_ensure_ascii=False,
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, fmt: LogFormat, stream: TextIO | None = None) -> None:
    """The root logger writes to `stream` (stderr) in `fmt`; replaces any earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else text_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python's warnings too: every line in the format
    # APScheduler logs every run of every job at INFO (and vmpool.jobs says it better).
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    jobs = logging.getLogger(JOBS_LOGGER)
    if fmt == "text" and root.level > logging.DEBUG:
        jobs.setLevel(logging.WARNING)  # only the runs that did not end ok
    else:
        jobs.setLevel(logging.NOTSET)
    # uvicorn's loggers propagate to the root (it is run with log_config=None).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
