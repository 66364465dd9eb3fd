"""schemathesis against every OpenAPI document the app serves, on the local stack, with a
logged-in caller per family (bench/fuzz_documents.py; run it there with a large count).
A 5xx or a non-JSON answer from any documented operation fails the test."""
from __future__ import annotations

import os

from bench.fuzz_documents import fuzz_all

# Generated requests per operation (half valid, half invalid): ~170 operations stay within
# a few minutes on one core. FUZZ_EXAMPLES raises it.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


def test_no_documented_operation_answers_a_server_error_or_anything_but_json(stack):
    outcomes = fuzz_all(stack.rest_url, stack.info, EXAMPLES)
    report = "\n".join(outcome.line() for outcome in outcomes)
    print(report)
    assert {outcome.family for outcome in outcomes} == {"user", "openapi", "admin", "oauth", "org", "partner",
                                                        "a2a"}, report
    for outcome in outcomes:
        assert outcome.examples >= outcome.operations * EXAMPLES // 2, report  # the fuzzing did run
        assert outcome.statuses.get(200), f"{outcome.family}: no call succeeded; is the caller logged in?\n{report}"
    failures = [failure for outcome in outcomes for failure in outcome.failures]
    assert failures == [], report + "\n" + "\n".join(failures)
