"""Run ``@app.schedule`` handlers locally at their rate (opt-in: ``LOCAL_SCHEDULES=1``).

One thread per ``rate(...)`` schedule calls the handler with an EventBridge
"Scheduled Event" every interval (first call after one interval, as in AWS).
``cron(...)`` schedules are reported and not run. ``interval_override`` (seconds;
``LOCAL_SCHEDULE_INTERVAL``) runs every schedule at that pace instead, for tests.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import traceback
import uuid
from typing import Any, Callable

log = logging.getLogger('infra.local.schedule')

_UNITS = {'minute': 60, 'minutes': 60, 'hour': 3600, 'hours': 3600, 'day': 86400, 'days': 86400}


def rate_seconds(expression: Any) -> float | None:
    """Seconds between runs of a ``rate(...)`` expression (str or chalice Rate); None for cron."""
    text = expression.to_string() if hasattr(expression, 'to_string') else str(expression)
    m = re.fullmatch(r'\s*rate\(\s*(\d+)\s+(\w+)\s*\)\s*', text)
    if not m or m.group(2) not in _UNITS:
        return None
    return int(m.group(1)) * _UNITS[m.group(2)]


def scheduled_event(rule_name: str, region: str, account: str = '123456789012') -> dict:
    return {
        'version': '0', 'id': str(uuid.uuid4()), 'detail-type': 'Scheduled Event',
        'source': 'aws.events', 'account': account,
        'time': dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'region': region, 'resources': [f'arn:aws:events:{region}:{account}:rule/{rule_name}'],
        'detail': {},
    }


class ScheduleRunner(threading.Thread):
    def __init__(self, *, name: str, expression: Any, handler: Callable[[dict, Any], Any],
                 region: str = 'us-east-1', context_factory: Callable[[], Any] | None = None,
                 interval_override: float | None = None):
        super().__init__(name=f'schedule-{name}', daemon=True)
        self.handler_name = name
        self.expression = expression.to_string() if hasattr(expression, 'to_string') else str(expression)
        self.handler = handler
        self.region = region
        self.context_factory = context_factory or (lambda: None)
        self.interval = interval_override or rate_seconds(expression)
        self.runs = 0
        self.failures = 0
        self.last_run: float | None = None
        self.last_error: str | None = None
        self._stop_event = threading.Event()

    @property
    def runnable(self) -> bool:
        return self.interval is not None

    def stop(self, timeout: float | None = None) -> None:
        self._stop_event.set()
        if timeout is not None and self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        assert self.interval is not None
        while not self._stop_event.wait(self.interval):
            self.last_run = time.time()
            try:
                self.handler(scheduled_event(self.handler_name, self.region), self.context_factory())
                self.runs += 1
            except Exception as exc:  # noqa: BLE001 - like Lambda: log, try again next time
                self.failures += 1
                self.last_error = f'{type(exc).__name__}: {exc}'
                log.error('schedule %s failed\n%s', self.handler_name, traceback.format_exc())

    def health(self) -> dict:
        return {'alive': self.is_alive(), 'expression': self.expression,
                'interval_s': self.interval, 'runs': self.runs, 'failures': self.failures,
                'last_run': self.last_run, 'last_error': self.last_error}
