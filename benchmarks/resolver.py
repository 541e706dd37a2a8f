"""Measure the resolver: accuracy on the labeled queries, time per resolution and index build time.

Run from the repository root:

    .venv/bin/python benchmarks/resolver.py

Accuracy is reported twice: on the labeled set the thresholds were tuned on, and on
the held-out set labeled before its first run. Times are wall-clock on this machine,
so compare them only with runs on the same hardware.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.resolver_cases import (
    COUNTRY_CASES,
    HELD_OUT_COUNTRY_CASES,
    HELD_OUT_SERVICE_CASES,
    SERVICE_CASES,
    Case,
    sandbox_countries,
    sandbox_services,
    synthetic_services,
)

from sms_activation_mcp.models import Service
from sms_activation_mcp.resolver import Ambiguous, NotFound, Resolved, Resolver

SYNTHETIC_CATALOG_SIZE = 2500
TIMING_ROUNDS = 20
BUILD_ROUNDS = 30


def score_cases(resolver: Resolver, cases: Sequence[Case]) -> dict[str, int]:
    """Count right and wrong outcomes.

    A `Resolved` result for a query labeled ambiguous or not found is a confident wrong one.
    """
    counts = {"resolvable": 0, "top1_right": 0, "unresolvable": 0, "confident_wrong": 0, "outcome_right": 0}
    for case in cases:
        result = resolver.resolve(case.query)
        if case.outcome == "resolved":
            counts["resolvable"] += 1
            counts["top1_right"] += isinstance(result, Resolved) and result.id == case.ids[0]
            continue

        counts["unresolvable"] += 1
        counts["confident_wrong"] += isinstance(result, Resolved)
        if case.outcome == "ambiguous":
            fits = isinstance(result, Ambiguous) and set(case.ids) <= {item.id for item in result.candidates}
        else:
            fits = isinstance(result, NotFound)
        counts["outcome_right"] += fits
    return counts


def report_accuracy(title: str, resolvers: dict[str, Resolver], cases: dict[str, Sequence[Case]]) -> None:
    totals: dict[str, int] = {}
    for kind, resolver in resolvers.items():
        for key, value in score_cases(resolver, cases[kind]).items():
            totals[key] = totals.get(key, 0) + value

    accuracy = 100.0 * totals["top1_right"] / totals["resolvable"]
    print(f"{title}: {sum(len(kind_cases) for kind_cases in cases.values())} queries")
    print(f"  top-1 accuracy on resolvable queries: {totals['top1_right']}/{totals['resolvable']} = {accuracy:.1f}%")
    print(
        f"  confident wrong answers on ambiguous and not-found queries: "
        f"{totals['confident_wrong']} of {totals['unresolvable']}"
    )
    print(f"  ambiguous or not-found outcome as labeled: {totals['outcome_right']}/{totals['unresolvable']}")


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_calls(call: Callable[[str], object], queries: Sequence[str], rounds: int) -> list[float]:
    """Time each call in microseconds, after one warm-up round."""
    for query in queries:
        call(query)

    samples = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter_ns()
            call(query)
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def report_times(title: str, samples: Sequence[float]) -> None:
    print(
        f"  {title}: {len(samples)} calls, p50 {statistics.median(samples):.0f} us, "
        f"p99 {percentile(samples, 0.99):.0f} us, max {max(samples):.0f} us"
    )


def with_typo(name: str, generator: random.Random) -> str:
    """Return `name` with one letter swapped with its neighbour, dropped or replaced."""
    position = generator.randrange(1, len(name) - 1)
    edit = generator.choice(["swap", "drop", "replace"])
    if edit == "swap":
        return name[:position] + name[position + 1] + name[position] + name[position + 2 :]
    if edit == "drop":
        return name[:position] + name[position + 1 :]
    return name[:position] + generator.choice("aeioukst") + name[position + 1 :]


def synthetic_queries(catalog: Sequence[Service], count: int) -> list[str]:
    """Return exact names, typos, name fragments and garbage for the synthetic catalog, in that mix."""
    generator = random.Random(11)
    names = [service.name for service in catalog if len(service.name) >= 6]
    queries = [case.query for case in SERVICE_CASES]
    while len(queries) < count:
        name = generator.choice(names)
        kind = generator.random()
        if kind < 0.3:
            queries.append(name)
        elif kind < 0.7:
            queries.append(with_typo(name, generator))
        elif kind < 0.85:
            queries.append(name[: generator.randint(3, 5)])
        else:
            queries.append("".join(generator.choice("bcdfghjklmnpqrstvwxz") for _ in range(generator.randint(4, 12))))
    return queries


def time_build(build: Callable[[], Resolver]) -> tuple[float, float]:
    """Return the median and max build time in milliseconds over BUILD_ROUNDS builds."""
    samples = []
    for _ in range(BUILD_ROUNDS):
        start = time.perf_counter_ns()
        build()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples), max(samples)


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")

    countries = sandbox_countries()
    services = sandbox_services()
    synthetic = synthetic_services(SYNTHETIC_CATALOG_SIZE)

    # The first build in a process also loads and indexes the package's name tables.
    start = time.perf_counter_ns()
    country_resolver = Resolver.for_countries(countries)
    first_countries = (time.perf_counter_ns() - start) / 1e6
    start = time.perf_counter_ns()
    service_resolver = Resolver.for_services(services)
    first_services = (time.perf_counter_ns() - start) / 1e6
    synthetic_resolver = Resolver.for_services(synthetic)

    resolvers = {"country": country_resolver, "service": service_resolver}
    report_accuracy(
        "Labeled set (thresholds tuned on it)",
        resolvers,
        {"country": COUNTRY_CASES, "service": SERVICE_CASES},
    )
    report_accuracy(
        "Held-out set (labeled before its first run)",
        resolvers,
        {"country": HELD_OUT_COUNTRY_CASES, "service": HELD_OUT_SERVICE_CASES},
    )

    print("Time per resolution")
    country_queries = [case.query for case in COUNTRY_CASES + HELD_OUT_COUNTRY_CASES]
    service_queries = [case.query for case in SERVICE_CASES + HELD_OUT_SERVICE_CASES]
    report_times(
        f"sandbox countries ({len(countries)} entries)",
        time_calls(country_resolver.resolve, country_queries, TIMING_ROUNDS),
    )
    report_times(
        f"sandbox services ({len(services)} entries)",
        time_calls(service_resolver.resolve, service_queries, TIMING_ROUNDS),
    )
    queries = synthetic_queries(synthetic, 1000)
    report_times(
        f"synthetic services ({len(synthetic)} entries)",
        time_calls(synthetic_resolver.resolve, queries, TIMING_ROUNDS // 4),
    )
    report_times(
        f"search, synthetic services ({len(synthetic)} entries)",
        time_calls(synthetic_resolver.search, queries, TIMING_ROUNDS // 4),
    )

    print("Index build")
    print(
        f"  first in the process, which loads the name tables: countries {first_countries:.1f} ms, "
        f"services {first_services:.1f} ms"
    )
    for title, build in [
        (f"sandbox countries ({len(countries)} entries)", lambda: Resolver.for_countries(countries)),
        (f"sandbox services ({len(services)} entries)", lambda: Resolver.for_services(services)),
        (f"synthetic services ({len(synthetic)} entries)", lambda: Resolver.for_services(synthetic)),
    ]:
        median, slowest = time_build(build)
        print(f"  {title}: median {median:.1f} ms, max {slowest:.1f} ms over {BUILD_ROUNDS} builds")


if __name__ == "__main__":
    main()
