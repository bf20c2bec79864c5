"""Logging: one line per event, key=value (default) or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Libraries whose DEBUG output carries secrets or personal data (mautrix's `mau.*` tree).
QUIET_LIBRARIES = ("mau", "mautrix", "aiosqlite", "asyncpg", "httpcore", "hpack", "nio")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "keyvalue") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # DEBUG is for the bot's own lines: every other logger (a library's, named or not) stays
    # at INFO or above, since a library's DEBUG may print bodies, tokens or messages.
    root.setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
    logging.getLogger("bot").setLevel(level.upper())
    # The driver logs every error response at ERROR and its retries at WARNING: ours say it better.
    for name in (
        "mattermostautodriver",
        "mattermostautodriver.api",
        "mattermostautodriver.websocket",
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # At DEBUG these print what must never reach a log: request bodies with the Matrix
    # password (cross-signing's auth), message bodies, SQL parameters with pickled keys.
    # Their own level too, should anything lower the root's later.
    floor = root.level
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(floor)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
