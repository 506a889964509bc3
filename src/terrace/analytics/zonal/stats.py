"""The statistics a zonal job computes: exactextract's per-zone summaries that fit a column."""

from __future__ import annotations

from dataclasses import dataclass

from terrace.errors import InvalidInput

# exactextract's coverage-weighted summaries with one value per zone.
SCALAR = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "stdev",
    "variance",
    "coefficient_of_variation",
    "median",
    "majority",
    "minority",
    "variety",
    "min_center_x",
    "min_center_y",
    "max_center_x",
    "max_center_y",
)
# Weighted by a second raster (`weights` of the request), with one value per zone.
WEIGHTED_SCALAR = ("weighted_sum", "weighted_mean", "weighted_stdev", "weighted_variance")
# Per-class fractions of a categorical raster (weighted_frac: of the weights): one column per class found.
CLASSES = ("frac", "weighted_frac")
WEIGHTED = frozenset(WEIGHTED_SCALAR + ("weighted_frac",))
INTEGER = frozenset({"variety"})
ALLOWED = SCALAR + WEIGHTED_SCALAR + CLASSES
MAX_STATS = 32


@dataclass(frozen=True)
class StatColumn:
    """One statistic of one band: its staging column, typed as the table keeps it."""

    stat: str
    band: int  # 1-based
    name: str  # `mean`, or `b2_mean` for a multi-band raster

    @property
    def weighted(self) -> bool:
        return self.stat in WEIGHTED

    @property
    def per_class(self) -> bool:
        return self.stat in CLASSES

    @property
    def pg_type(self) -> str:
        if self.per_class:
            return "text"  # JSON: class value -> fraction, pivoted into columns when assembled
        return "bigint" if self.stat in INTEGER else "double precision"


def normalize_stats(stats: list[str]) -> list[str]:
    """The requested statistics, lower-cased, each once, in the order given; 400 naming the
    unknown ones."""
    wanted = list(dict.fromkeys(s.strip().lower() for s in stats))
    if not wanted or len(wanted) > MAX_STATS:
        raise InvalidInput(f"Ask for 1 to {MAX_STATS} statistics.", f"Choose from: {', '.join(ALLOWED)}.")
    unknown = [s for s in wanted if s not in ALLOWED]
    if unknown:
        named = ", ".join(repr(s[:40]) for s in unknown[:5])
        raise InvalidInput(f"Unknown statistic(s) {named}.", f"Choose from: {', '.join(ALLOWED)}.")
    return wanted


def require_weights(stats: list[str], weighted: bool) -> None:
    """400 for a weighted statistic asked for without `weights`."""
    wanted = [s for s in stats if s in WEIGHTED]
    if wanted and not weighted:
        raise InvalidInput(
            f"{', '.join(wanted)} weigh each cell by a second raster, and the request names no `weights`.",
            "Add `weights`: {dataset_id, resource_id, version_id?} of a served raster (e.g. population),"
            " or ask for the unweighted statistic (mean, sum, stdev, variance, frac).",
        )


def stat_columns(stats: list[str], bands: int) -> list[StatColumn]:
    """One column per statistic and band; band-prefixed names when the raster has several."""
    return [
        StatColumn(stat, band, f"b{band}_{stat}" if bands > 1 else stat)
        for band in range(1, bands + 1)
        for stat in stats
    ]


def class_suffix(value: str) -> str:
    """A class value as a column-name suffix: `3`, `m1` for -1, `2_5` for 2.5."""
    return value.replace("-", "m").replace(".", "_").replace("+", "")
