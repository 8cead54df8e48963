"""Carve targets (carve.md K2, K4, K6, K7): pure arithmetic over one contract's lines.

Everything here is in integer minor units of the line's currency and exact fractions;
rounding is S7's, half away from zero, cumulative (a period's carve is the difference of
two rounded cumulative targets, so the parts add up to the whole).

- ``LineCarve``: what the rules read of one SO line: its carve C, net ESP N, the
  contractual release per period (``released``: R's rows, held rows excluded), the carve
  booked per period and the free-line weights (a held line's stopping at the last period
  it released in before its hold, as R(p) leaves out the held rows).
- ``Form``: how a line's target through a period is computed: K2's retrospective
  ``T(p) = round(C × R(p) / N)``, or K7 step 6's prospective spread from the version's
  last closed period.
- ``line_differences``: K4, what to book so that the booked carve meets the target.
- ``prospective_place``: K7 steps 1–5, a reduction placed on what is still to deliver.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from itertools import accumulate

from ...models.carve import CarveEntryType
from ..splits import cumulative_weights


def round_half_away(value: Fraction) -> int:
    """S7's rounding of an exact amount in minor units: half away from zero."""
    return round_ratio(value.numerator, value.denominator)


def round_ratio(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half away from zero, in integers (denominator ≠ 0)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def _through(cumulative: tuple[list[int], list[int]], period: int) -> int:
    periods, sums = cumulative
    index = bisect_right(periods, period)
    return sums[index - 1] if index else 0


def _cumulative(values: dict[int, int]) -> tuple[list[int], list[int]]:
    periods = sorted(values)
    return periods, list(accumulate(values[p] for p in periods))


@dataclass
class LineCarve:
    """One SO line as the K rules read it; amounts in minor units."""

    pk: int
    so_line_id: str
    currency: str
    carve: int | None  # C (None: no carve, K1)
    net: int  # N, the net ESP
    returned: bool
    hold: bool
    residual: int  # K7 step 5: the part of C booked at once
    method: str
    rev_start: date
    rev_end: date
    # A2 on net values (None: no SSP or returned), read by K7 only: computed on first use
    ext_ssp_of: Callable[[], int | None] | None = field(default=None, repr=False)
    # a held line: h, the last period it released in before its hold (None: it released
    # in none); its W share stops there (K2), as R(p) stops at its last unheld row
    hold_through: int | None = None
    released: dict[int, int] = field(default_factory=dict)  # period → Σ rows, held excluded
    booked: dict[int, int] = field(default_factory=dict)  # period → Σ carve booked
    catch_up: dict[int, int] = field(default_factory=dict)  # period → Σ CATCH_UP booked
    # prefix sums of ``released`` and ``booked`` (neither changes once loaded)
    _released: tuple | None = field(default=None, repr=False)
    _booked: tuple | None = field(default=None, repr=False)
    _ext_ssp: int | None = field(default=None, repr=False)

    @property
    def ext_ssp(self) -> int | None:
        if self.ext_ssp_of is not None:
            self._ext_ssp, self.ext_ssp_of = self.ext_ssp_of(), None
        return self._ext_ssp

    def released_sums(self) -> tuple[list[int], list[int]]:
        """The periods of ``released`` in order and R through each (prefix sums, once)."""
        if self._released is None:
            self._released = _cumulative(self.released)
        return self._released

    def released_through(self, period: int) -> int:
        """R(p): the contractual rows booked in periods ≤ p, held rows excluded."""
        return _through(self.released_sums(), period)

    def booked_through(self, period: int) -> int:
        if self._booked is None:
            self._booked = _cumulative(self.booked)
        return _through(self._booked, period)

    @property
    def free(self) -> bool:
        """A line that sells nothing (N = 0) and is not returned: K2 weights its dates."""
        return self.net == 0 and not self.returned

    def released_share(self, period: int) -> Fraction:
        """K2's share of a free line through ``period``: W≤p / W, with held weights excluded
        as R(p) excludes held rows: on hold, W≤min(p, h) / W (0 if it released nothing
        before its hold), whatever C becomes meanwhile."""
        if self.hold:
            if self.hold_through is None:
                return Fraction(0)
            period = min(period, self.hold_through)
        return self.weight_share(period)

    def weight_share(self, period: int) -> Fraction:
        """W≤p / W over the line's revenue dates (S6's weights)."""
        share = Fraction(0)
        for p, numerator, denominator in cumulative_weights(
            self.method, self.rev_start, self.rev_end
        ):
            if p > period:
                break
            share = Fraction(numerator, denominator)
        return share

    def weight_periods(self) -> list[int]:
        return [p for p, _, _ in cumulative_weights(self.method, self.rev_start, self.rev_end)]


@dataclass(frozen=True)
class Form:
    """How targets are computed: retrospective (K2), or prospective from the version's last
    closed period ``since`` (K7 step 6). ``closed``: the last closed period now (S1)."""

    prospective: bool
    since: int | None
    closed: int | None

    def target(self, line: LineCarve, period: int) -> int:
        """T(p), the carve booked on ``line`` through ``period`` once everything is booked."""
        # K3: a held line releases no carve until released. Its R(p) leaves out the held
        # rows and a free line's share its held weights (``released_share``), so both stay
        # at what they released before the hold while following a new C
        carve = line.carve or 0
        if not self.prospective:
            if not carve:
                return 0
            if line.free:
                return round_half_away(carve * line.released_share(period))
            if not line.net:
                return 0
            return round_ratio(carve * line.released_through(period), line.net)
        # K7 step 6: B + residual + round((C − residual − B) × (R(p) − R(P)) / (N − R(P)))
        if line.carve is None:
            return 0
        since = self.since
        base = (line.booked_through(since) if since is not None else 0) + line.residual
        remaining = carve - base
        if line.returned or not remaining:
            return carve
        if line.free:
            done = line.released_share(since) if since is not None else Fraction(0)
            whole = 1 - done
            part = line.released_share(period) - done
            if not whole:
                return carve  # nothing left to deliver: the line books C − B in O
            return base + round_half_away(remaining * part / whole)
        done = line.released_through(since) if since is not None else 0
        whole_minor = line.net - done
        if not whole_minor:
            return carve  # N = R(P): the line books C − B in O
        part_minor = line.released_through(period) - done
        return base + round_ratio(remaining * part_minor, whole_minor)

    def targets(self, line: LineCarve, periods: list[int]) -> list[int]:
        """T(p) for each of ``periods`` (ascending): ``target`` for each, in one sweep of the
        released prefix sums for K2's retrospective form of a line that sells something
        (most lines; a carve rebuild computes one per future period)."""
        carve, net = line.carve, line.net
        if self.prospective or line.free or not carve or not net:
            return [self.target(line, period) for period in periods]
        released, sums = line.released_sums()
        out, index, through, last = [], 0, 0, len(released)
        for period in periods:
            while index < last and released[index] <= period:
                through = sums[index]
                index += 1
            out.append(round_ratio(carve * through, net))
        return out


def line_differences(
    line: LineCarve, *, form: Form, open_period: int
) -> list[tuple[int, str, int]]:
    """K4: (period, entry type, minor units) to book so that the carve booked on ``line``
    meets its targets. Each future period gets its target's step minus what it holds; the
    open period gets T(O) minus everything booked through it, the part belonging to closed
    periods (T(P) minus what they hold and what was caught up already) as ``CATCH_UP``."""
    out: list[tuple[int, str, int]] = []
    through_open = form.target(line, open_period)
    difference = through_open - line.booked_through(open_period)
    if difference:
        catch_up = 0
        if form.closed is not None:
            catch_up = (
                form.target(line, form.closed)
                - line.booked_through(form.closed)
                - line.catch_up.get(open_period, 0)
            )
        if catch_up:
            out.append((open_period, CarveEntryType.CATCH_UP, catch_up))
        if difference - catch_up:
            out.append((open_period, CarveEntryType.RELEASE, difference - catch_up))
    periods = {p for p in (*line.released, *line.booked) if p > open_period}
    if line.free:
        periods.update(p for p in line.weight_periods() if p > open_period)
    previous = through_open
    future = sorted(periods)
    for period, target in zip(future, form.targets(line, future), strict=True):
        step = target - previous - line.booked.get(period, 0)
        if step:
            out.append((period, CarveEntryType.RELEASE, step))
        previous = target
    return out


@dataclass
class Placement:
    """K7 steps 1–5 for one currency of a contract: each line's new C and residual."""

    carve: dict[int, int]  # pk → C (the residual included)
    residual: dict[int, int]  # pk → the residual booked at once (the changed line only)
    scope: set[int]  # the lines K7 placed (the others keep no carve)


def prospective_place(lines: list[LineCarve], *, closed: int, changed: int | None) -> Placement:
    """K7 steps 1–5. ``lines``: one currency's lines of a contract, in SO_LINE_ID order
    (K8); ``closed``: P; ``changed``: the pk of the line the reduction changed (the
    residual's line). In the pool: lines with an Ext SSP (not returned); in scope besides:
    lines that hold booked carve and the changed line."""
    scope = [
        line for line in lines if line.ext_ssp is not None or line.booked or line.pk == changed
    ]
    frozen = {line.pk: line.booked_through(closed) for line in scope}  # step 1: B_i
    remaining: dict[int, int] = {}  # step 2: r_i
    ssp: dict[int, int] = {}  # step 2: s_i
    for line in scope:
        if line.returned or line.ext_ssp is None:
            continue
        if line.free:  # K2's weights, a held line's through its hold only
            left = 1 - line.released_share(closed)
            remaining[line.pk] = 0
            ssp[line.pk] = round_half_away(line.ext_ssp * left)
        else:
            left_minor = line.net - line.released_through(closed)
            remaining[line.pk] = left_minor
            ssp[line.pk] = round_ratio(line.ext_ssp * left_minor, line.net) if line.net else 0
    unrecognised = sum(remaining.values()) - sum(frozen.values())  # step 3: X
    total_ssp = sum(ssp.values())
    allocated: dict[int, int] = dict.fromkeys(ssp, 0)
    if total_ssp > 0 and unrecognised > 0:  # step 4, A3's cumulative rounding
        running = previous = 0
        for pk, share in ssp.items():
            running += share
            upto = round_ratio(unrecognised * running, total_ssp)
            allocated[pk] = upto - previous
            previous = upto
    residual = unrecognised if (unrecognised < 0 or total_ssp <= 0) else 0  # step 5
    carve: dict[int, int] = {}
    for line in scope:
        if line.pk in remaining:
            carve[line.pk] = frozen[line.pk] + allocated[line.pk] - remaining[line.pk]
        else:
            carve[line.pk] = frozen[line.pk]
    residuals: dict[int, int] = {}
    if residual:
        target = changed if changed in carve else scope[-1].pk if scope else None
        if target is not None:
            carve[target] += residual
            residuals[target] = residual
    return Placement(carve=carve, residual=residuals, scope={line.pk for line in scope})
