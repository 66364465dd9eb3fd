"""Scheduled handlers run locally at their rate when enabled (LOCAL_SCHEDULES=1)."""
from __future__ import annotations

import time

from chalice import Chalice

from infra.local.devserver import DevServer


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_scheduled_handler_runs_at_its_rate_when_schedules_are_enabled(aws_env):
    from chalice import Cron, Rate

    from infra.local.scheduler import rate_seconds
    app = Chalice(app_name='schedule-test')
    runs: list[dict] = []

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def tick(event):
        runs.append(event.to_dict())

    @app.schedule(Cron(0, 10, '*', '*', '?', '*'))
    def nightly(event):
        pass

    from infra.local.scheduler import ScheduleRunner
    assert rate_seconds('rate(5 minutes)') == 300 and rate_seconds('cron(0 10 * * ? *)') is None
    assert not ScheduleRunner(name='n', expression='cron(0 10 * * ? *)', handler=print).runnable
    server = DevServer(None, app=app, rest=False, rest_port=0, ws_port=0, connections_port=0,
                       schedules=True, schedule_interval=0.1).start()
    try:
        assert wait_until(lambda: len(runs) >= 2, timeout=5)
        health = server.health()['schedules']
        assert health['tick']['alive'] and health['tick']['runs'] >= 2
        assert health['nightly']['expression'].startswith('cron(')   # the override paces it too
    finally:
        server.stop()
    assert runs[0]['detail-type'] == 'Scheduled Event'
    assert runs[0]['resources'][0].endswith(':rule/tick')
