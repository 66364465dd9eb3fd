"""Fault injection at size: random operations with kills and duplicates, then every invariant.

Drives `tests.fault.harness.Harness` (orders, cancels, deposits, withdrawals, reviews,
custody callbacks, matcher and custody deliveries with kills between writes, duplicate
deliveries, sweepers) in-process against moto, drains, and prints the size, the crashes
injected, the duplicates delivered and each invariant's result. Exit status 1 if any
invariant fails.

    .venv/bin/python bench/fault_injection.py [--ops 10000] [--seed 11] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import tests.conftest  # noqa: E402,F401  (fake credentials, test stage, resource names)
from tests.fault import invariants  # noqa: E402
from tests.fault.harness import Harness  # noqa: E402
from tests.support.aws import moto_resources  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"fault injection: {args.ops} operations, seed {args.seed}; {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, moto in-process (patched)", flush=True)
    with moto_resources():
        harness = Harness(seed=args.seed)
        try:
            harness.run(args.ops, progress=lambda n: print(
                f"  {n} operations, {harness.tally.crashes} crashes, {time.perf_counter() - started:.0f} s",
                flush=True))
            harness.drain()
            results = invariants.check(harness.users)
        finally:
            harness.close()
        summary = harness.summary()
    elapsed = time.perf_counter() - started
    results["no unexpected errors (5xx) and no swallowed worker errors"] = (
        [u.splitlines()[0] for u in harness.tally.unexpected] + harness.errors.records)
    results["replays of an operation id agreed with the first answer"] = harness.tally.violations
    print(f"size: {summary['operations']} operations {summary['by_kind']}")
    print(f"crashes injected: {summary['crashes_injected']} {summary['kills_by_point']}")
    print(f"duplicates delivered: {summary['duplicates_delivered']}; redeliveries after a crash or failure: "
          f"{summary['redeliveries']}; client retries: {summary['client_retries']}")
    print(f"effects: {summary['orders']} orders, {summary['withdrawals']} withdrawals, {summary['deposits']} "
          f"deposits; refusals {summary['business_errors']}")
    failed = 0
    for name, problems in results.items():
        failed += bool(problems)
        print(f"{'HOLDS' if not problems else 'FAILS'}  {name}" + (f" ({len(problems)}):" if problems else ""))
        for problem in problems[:10]:
            print(f"         {problem}")
    print(f"{len(results) - failed} of {len(results)} invariants hold; {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"summary": summary, "results": results, "seconds": round(elapsed)}, out, indent=1,
                      default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
