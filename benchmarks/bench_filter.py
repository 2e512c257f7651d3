"""Benchmark ``VersionAllowance.filter`` against ``packaging.specifiers.SpecifierSet.filter``.

Both filter the same seeded list of version strings (PEP 440 and SemVer spellings, some pre-, post-, dev-
and local versions, a few strings that are not versions) with the same spec and the same, explicit,
pre-release setting: ``SpecifierSet.filter`` by default admits pre-releases when no final version matches,
``VersionAllowance.filter`` by default never unless a clause names one, so neither default is used. The
outputs are compared, and any mismatch is counted and printed.

It prints a Markdown table of the best of ``--repeat`` runs, timed in CPU time of this process (a shared
machine's other work disturbs that far less than wall time); it asserts nothing about time. Not part of
CI::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_filter.py --count 100000 --repeat 7
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence

import packaging
from packaging.specifiers import SpecifierSet

from mlflow_allowance import VersionAllowance

SPECS = ("<=2.0", ">=1.0,<2.0", "==2.*", "~=1.4")


def version_strings(count: int, seed: int) -> list[str]:
    """``count`` random version strings, mostly near the specs' boundaries (numbers 0-4)."""
    rng = random.Random(seed)
    texts: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.005:
            texts.append(rng.choice(["banana", "1..0", "2.0.0-SNAPSHOT", ""]))
            continue
        release = [rng.choice((0, 1, 1, 2, 2, 3, 4)) for _ in range(rng.choice((1, 2, 2, 3, 3)))]
        if roll < 0.25:  # SemVer
            release = [*release, 0, 0][:3]
            text = rng.choice(("", "v")) + ".".join(map(str, release))
            if rng.random() < 0.3:
                text += f"-{rng.choice(('alpha', 'beta', 'rc'))}.{rng.randint(0, 3)}"
            if rng.random() < 0.1:
                text += f"+build.{rng.randint(0, 99)}"
        else:  # PEP 440
            text = ".".join(map(str, release))
            extra = rng.random()
            if extra < 0.15:
                text += f"{rng.choice(('a', 'b', 'rc'))}{rng.randint(0, 3)}"
            elif extra < 0.25:
                text += f".post{rng.randint(0, 3)}"
            elif extra < 0.30:
                text += f".dev{rng.randint(0, 3)}"
            if rng.random() < 0.05:
                text += f"+local.{rng.randint(0, 9)}"
        texts.append(text)
    return texts


def ours(allowance: VersionAllowance, versions: list[str], prereleases: bool) -> list[str]:
    return allowance.filter(versions, prereleases=prereleases)


def packagings(specifiers: SpecifierSet, versions: list[str], prereleases: bool) -> list[str]:
    return list(specifiers.filter(versions, prereleases=prereleases))


def best_of(repeat: int, *runs: Callable[[], list[str]]) -> list[tuple[float, list[str]]]:
    """The best CPU time of each run over ``repeat`` rounds, and its result.

    The runs take turns within each round, so that a noisy neighbour slows them alike; garbage collection
    is off while timing.
    """
    best = [float("inf")] * len(runs)
    results: list[list[str]] = [[] for _ in runs]
    for _ in range(repeat):
        for index, run in enumerate(runs):
            gc.collect()
            gc.disable()
            try:
                start = time.process_time()
                results[index] = run()
                elapsed = time.process_time() - start
            finally:
                gc.enable()
            best[index] = min(best[index], elapsed)
    return list(zip(best, results, strict=True))


def mismatches(ours: list[str], theirs: list[str]) -> int:
    """How many items one output has that the other lacks (0 when both are equal, order included)."""
    if ours == theirs:
        return 0
    left, right = Counter(ours), Counter(theirs)
    return max(1, sum((left - right).values()) + sum((right - left).values()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="VersionAllowance.filter vs SpecifierSet.filter")
    parser.add_argument("--count", type=int, default=100_000, help="version strings to filter")
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement; the best counts")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    versions = version_strings(args.count, args.seed)
    print(
        f"{args.count:,} version strings (seed {args.seed}), best CPU time of {args.repeat}; "
        f"Python {platform.python_version()}, packaging {packaging.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs\n"
    )
    print("| spec | pre-releases | kept | ours (ms) | packaging (ms) | ratio | mismatches |")
    print("|---|---|--:|--:|--:|--:|--:|")
    total_mismatches = 0
    for spec in SPECS:
        for prereleases in (False, True):
            allowance = VersionAllowance.parse(spec)
            specifiers = SpecifierSet(spec)
            # Warm both up once (parsing caches, precomputed bounds), then time.
            ours(allowance, versions[:1000], prereleases)
            packagings(specifiers, versions[:1000], prereleases)
            (ours_s, kept), (theirs_s, expected) = best_of(
                args.repeat,
                functools.partial(ours, allowance, versions, prereleases),
                functools.partial(packagings, specifiers, versions, prereleases),
            )
            wrong = mismatches(kept, expected)
            total_mismatches += wrong
            print(
                f"| `{spec}` | {'included' if prereleases else 'excluded'} | {len(kept):,} "
                f"| {ours_s * 1000:.1f} | {theirs_s * 1000:.1f} | {ours_s / theirs_s:.2f}x | {wrong} |"
            )
    if total_mismatches:
        print(f"\n{total_mismatches} mismatching items: the two filters disagree.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
