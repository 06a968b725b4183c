"""The public release: aggregated tables of persons with differential privacy (OpenDP) and small-cell suppression.

Method, stated in the release itself:
- Each table counts *persons*, each in exactly one cell (their first registration's year and nationality; year, sex
  and age band; year and first station), so adding or removing one person changes one cell by one: L1 sensitivity 1.
- Every table gets the discrete Laplace mechanism from OpenDP with scale = tables / ε, so each table spends ε / tables
  and the whole release spends ε by sequential composition; OpenDP's own privacy map is asked for each measurement
  and their sum is checked against the stated budget before anything is written.
- Then post-processing, which costs no privacy: negative counts become 0, and every cell whose noisy count is under
  the suppression threshold is published as "<threshold" (small cells make a person recognisable in the eyes of a
  neighbour, whatever the noise).
Nothing is released about a cell but its noisy, possibly suppressed count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from travesia.core.errors import N_, RuleProblem

DEFAULT_EPSILON = 1.0
DEFAULT_THRESHOLD = 10


@dataclass(frozen=True)
class ReleasedTable:
    name: str
    columns: list[str]
    rows: list[list[object]]  # key values, then the count (an int, or "<threshold")
    epsilon: float


@dataclass
class Release:
    epsilon: float
    threshold: int
    tables: list[ReleasedTable] = field(default_factory=list)

    @property
    def spent(self) -> float:
        return sum(t.epsilon for t in self.tables)


def _mechanism(scale: float) -> Any:
    # OpenDP's prelude imports scikit-learn (almost a second): imported when a release is made, not at start-up.
    import opendp.prelude as dp

    dp.enable_features("contrib")  # the discrete Laplace mechanism is in OpenDP's 'contrib' set
    domain = dp.vector_domain(dp.atom_domain(T=int))
    return dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)


def release(
    tables: dict[str, tuple[list[str], Counter]], epsilon: float = DEFAULT_EPSILON, threshold: int = DEFAULT_THRESHOLD
) -> Release:
    """``tables``: name → (key column names, Counter of key tuple → persons). Keys are the public categories
    (years, nationalities, stations, bands), never anything about a person."""
    if not 0 < epsilon <= 10:
        raise RuleProblem(N_("The privacy budget (epsilon) must be above 0 and at most 10."))
    if threshold < 1:
        raise RuleProblem(N_("The suppression threshold must be at least 1."))
    out = Release(epsilon, threshold)
    if not tables:
        return out
    scale = len(tables) / epsilon
    for name, (columns, counts) in tables.items():
        keys = sorted(counts)
        measurement = _mechanism(scale)
        spent = float(measurement.map(d_in=1))
        noisy = measurement([int(counts[k]) for k in keys]) if keys else []
        rows: list[list[object]] = []
        for key, value in zip(keys, noisy, strict=True):
            value = max(0, int(value))
            rows.append([*key, value if value >= threshold else f"<{threshold}"])
        out.tables.append(ReleasedTable(name, [*columns, "persons"], rows, spent))
    if out.spent > epsilon * (1 + 1e-9):
        raise RuntimeError(f"the release would spend ε={out.spent:.6f}, above its budget ε={epsilon}")
    return out
