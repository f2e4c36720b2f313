"""The log lines (vmpool/logs.py): the JSON and text formats, the request line of every API
call and the line of every job run."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.errors import DatabaseUnavailable
from vmpool.logs import ACCESS_LOGGER, JOBS_LOGGER, configure_logging
from vmpool.scheduler.jobs import _job
from vmpool.services.audit import current_request_id


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging changes the process's loggers: put them back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in (JOBS_LOGGER, "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


def test_json_lines_carry_the_extra_fields_and_the_request_id(root_logging: None) -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    token = current_request_id.set("req-42")
    try:
        logging.getLogger("vmpool.test").info("hello %s", "wörld", extra={"host": "lab1"})
    finally:
        current_request_id.reset(token)
    logging.getLogger("vmpool.test").info("outside a request")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("vmpool.test").exception("failed")
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())

    assert first["message"] == "hello wörld"
    assert (first["level"], first["logger"], first["host"]) == ("INFO", "vmpool.test", "lab1")
    assert first["request_id"] == "req-42"
    when = datetime.fromisoformat(first["time"])
    assert when.utcoffset() == UTC.utcoffset(None)
    assert "request_id" not in second
    assert third["level"] == "ERROR" and "ValueError: boom" in third["exc_info"]


def test_text_lines_hide_the_runs_of_jobs_that_went_well(root_logging: None) -> None:
    out = io.StringIO()
    configure_logging("info", "text", out)
    jobs = logging.getLogger(JOBS_LOGGER)
    jobs.info("job sync-hosts ok in 1.0 ms")
    jobs.warning("job sync-hosts skipped in 1.0 ms: the database is away")
    logging.getLogger("vmpool.test").info("plain")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "WARNING vmpool.jobs: job sync-hosts skipped" in lines[0]
    assert lines[1].endswith("INFO vmpool.test: plain")
    # at debug level, every run shows
    configure_logging("debug", "text", out)
    jobs.info("job ha ok in 1.0 ms")
    assert out.getvalue().splitlines()[-1].endswith("INFO vmpool.jobs: job ha ok in 1.0 ms")


def test_log_format_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMPOOL_CONFIG", "")
    assert Settings().log_format == "text"
    monkeypatch.setenv("VMPOOL_LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("VMPOOL_LOG_FORMAT", "yaml")
    with pytest.raises(ValidationError):
        Settings()


def test_every_request_is_one_access_line(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(None)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER), TestClient(app) as client:
        assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).status_code == 200
        assert client.get("/v1/nowhere").status_code == 404
    ok, missing = (r for r in caplog.records if r.name == ACCESS_LOGGER)

    assert ok.request_id == "abc-1"  # type: ignore[attr-defined]
    assert (ok.method, ok.route, ok.path, ok.status) == ("GET", "/healthz", "/healthz", 200)  # type: ignore[attr-defined]
    assert isinstance(ok.duration_ms, float) and ok.duration_ms >= 0  # type: ignore[attr-defined]
    assert ok.getMessage().startswith("GET /healthz 200 ")
    assert missing.route is None and missing.status == 404  # type: ignore[attr-defined]
    assert len(missing.request_id) == 32  # type: ignore[attr-defined]  # made up: a uuid4


def test_every_job_run_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    def fine() -> None:
        pass

    def away() -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    def broken() -> None:
        raise ValueError("bad")

    with caplog.at_level(logging.INFO, logger=JOBS_LOGGER):
        _job("fine", fine)()
        _job("away", away)()  # said in one line, not raised: it runs again at its next tick
        with pytest.raises(ValueError):
            _job("broken", broken)()  # raised on, for APScheduler's traceback
    runs = [r for r in caplog.records if r.name == JOBS_LOGGER]

    got = [(r.job, r.outcome, r.levelname) for r in runs]  # type: ignore[attr-defined]
    assert got == [("fine", "ok", "INFO"), ("away", "skipped", "WARNING"),
                   ("broken", "error", "WARNING")]  # fmt: skip
    assert all(r.duration_ms >= 0 for r in runs)  # type: ignore[attr-defined]
    assert runs[1].error == "the database cannot be reached"  # type: ignore[attr-defined]
    assert runs[2].error == "ValueError: bad"  # type: ignore[attr-defined]
