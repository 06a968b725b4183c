"""Charts as SVG, drawn on the server: pure functions from numbers to markup, no JavaScript, no external service.

Three shapes cover the dashboard: stacked columns over periods, lines with a shaded prediction interval (forecasts),
and horizontal bars against a capacity mark (occupancy). Series beyond the seventh largest are summed as "other",
so a chart stays readable at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

PALETTE = ("#1d4ed8", "#b7791f", "#5b8c5a", "#a8201a", "#6b46c1", "#0f766e", "#be185d", "#6b7280")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 28, 44
MAX_SERIES = 7
# Presentation attributes, not CSS: an inline <style> would be refused by the pages' Content-Security-Policy.
SMALL = 'font-size="10" fill="#333"'
CAP = 'stroke="#a8201a" stroke-width="2" stroke-dasharray="4 2"'
LINE = 'fill="none" stroke-width="2"'


@dataclass(frozen=True)
class Table:
    """What a chart shows, as rows (for the CSV download and the accessible table)."""

    columns: list[str]
    rows: list[list[object]]


def pivot(rows: Sequence[tuple[str, str, int]]) -> tuple[list[str], dict[str, list[int]]]:
    """(period, key, count) rows → periods in order and one list of counts per key; the smaller keys as 'other'."""
    periods = sorted({p for p, _, _ in rows})
    index = {p: i for i, p in enumerate(periods)}
    totals: dict[str, int] = {}
    for _, key, n in rows:
        totals[key] = totals.get(key, 0) + n
    keep = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SERIES]]
    series = {k: [0] * len(periods) for k in keep}
    if len(totals) > MAX_SERIES:
        series["other"] = [0] * len(periods)
    for period, key, n in rows:
        series[key if key in series else "other"][index[period]] += n
    return periods, series


def table(periods: list[str], series: dict[str, list[int]]) -> Table:
    return Table(["period", *series], [[p, *(series[k][i] for k in series)] for i, p in enumerate(periods)])


def _ticks(top: float) -> list[float]:
    if top <= 0:
        return [0.0]
    step = 10 ** max(0, len(str(int(top))) - 1)
    for factor in (1, 2, 5, 10):
        if top / (step * factor) <= 5:
            step *= factor
            break
    return [i * step for i in range(int(top // step) + 2)]


def _frame(title: str, top: float) -> tuple[list[str], float]:
    ticks = _ticks(top)
    ceiling = ticks[-1] or 1
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<text font-size="13" font-weight="bold" x="{LEFT}" y="16">{escape(title)}</text>']
    for t in ticks:
        y = TOP + plot_h - t / ceiling * plot_h
        parts.append(f'<line stroke="#ddd" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text {SMALL} x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{int(t):,}</text>')
    return parts, ceiling


def _legend(keys: list[str]) -> list[str]:
    out = []
    for i, key in enumerate(keys):
        y = TOP + 14 * i
        out.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        out.append(f'<text {SMALL} x="{WIDTH - RIGHT + 26}" y="{y + 9}">{escape(key)}</text>')
    return out


def png(svg: str, zoom: float = 2.0) -> bytes:
    """A chart as PNG, for documents and slides that take no SVG: rasterised by resvg (resvg-py, a self-contained
    wheel; no browser, no external service), on white, at twice the drawing's size. Text uses the system's fonts
    (DejaVu on Debian: the Makefile installs fonts-dejavu-core where it is missing)."""
    import resvg_py  # only here: a page never needs it

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="white", zoom=zoom))


def _svg(title: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title, {chr(34): "&quot;"})}" font-family="sans-serif"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


def _x_labels(periods: list[str], x_of: object) -> list[str]:
    every = max(1, -(-len(periods) * 72 // (WIDTH - LEFT - RIGHT)))  # a label every ~72 px, never overlapping
    return [
        f'<text {SMALL} x="{x_of(i):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(p)}</text>'  # type: ignore[operator]
        for i, p in enumerate(periods)
        if i % every == 0
    ]


def _empty(title: str, message: str) -> str:
    heading = f'<text font-size="13" font-weight="bold" x="{LEFT}" y="16">{escape(title)}</text>'
    note = f'<text {SMALL} x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(message)}</text>'
    return _svg(title, [heading, note])


def columns(title: str, periods: list[str], series: dict[str, list[int]], empty: str = "No data") -> str:
    """Stacked columns: one per period, one colour per key."""
    if not periods:
        return _empty(title, empty)
    totals = [sum(series[k][i] for k in series) for i in range(len(periods))]
    parts, ceiling = _frame(title, max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(periods))
    width = max(1.0, slot * 0.8)
    for i, period in enumerate(periods):
        base = 0
        for j, key in enumerate(series):
            n = series[key][i]
            if n:
                h = n / ceiling * plot_h
                y = TOP + plot_h - (base + n) / ceiling * plot_h
                parts.append(
                    f'<rect x="{LEFT + i * slot + (slot - width) / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                    f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(period)} · {escape(key)}: '
                    f"{n:,}</title></rect>"
                )
            base += n
    parts += _x_labels(periods, lambda i: LEFT + i * slot + slot / 2)
    return _svg(title, parts + _legend(list(series)))


def lines(
    title: str,
    periods: list[str],
    series: dict[str, list[float]],
    bands: dict[str, tuple[list[float], list[float]]] | None = None,
) -> str:
    """Lines over periods; a shaded band per series where given (a prediction interval)."""
    values = [v for s in series.values() for v in s] + [v for lo, hi in (bands or {}).values() for v in hi]
    parts, ceiling = _frame(title, max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(periods) - 1)

    def point(i: int, v: float) -> str:
        return f"{LEFT + i * step:.1f},{TOP + plot_h - max(0.0, v) / ceiling * plot_h:.1f}"

    for j, (key, vals) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        if bands and key in bands:
            lo, hi = bands[key]
            first = len(periods) - len(hi)
            outline = [point(first + i, v) for i, v in enumerate(hi)] + [
                point(first + i, v) for i, v in reversed(list(enumerate(lo)))
            ]
            parts.append(f'<polygon opacity="0.18" fill="{color}" points="{" ".join(outline)}"/>')
        start = len(periods) - len(vals)
        pts = " ".join(point(start + i, v) for i, v in enumerate(vals))
        parts.append(f'<polyline {LINE} stroke="{color}" points="{pts}"><title>{escape(key)}</title></polyline>')
    parts += _x_labels(periods, lambda i: LEFT + i * step)
    return _svg(title, parts + _legend(list(series)))


def capacity_bars(title: str, items: list[tuple[str, int, int]]) -> str:
    """Horizontal bars of people present against each station's capacity (the dashed mark); red when over."""
    top = max([max(n, cap) for _, n, cap in items], default=0)
    parts, ceiling = (
        [f'<text font-size="13" font-weight="bold" x="{LEFT}" y="16">{escape(title)}</text>'],
        float(top or 1),
    )
    plot_w = WIDTH - LEFT - RIGHT - 60
    row = (HEIGHT - TOP - 10) / max(1, len(items))
    for i, (label, n, cap) in enumerate(items):
        y = TOP + i * row
        w = n / ceiling * plot_w
        color = "#a8201a" if n > cap else "#1d4ed8"
        parts.append(
            f'<text {SMALL} x="{LEFT + 56}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{LEFT + 60}" y="{y + row * 0.2:.1f}" width="{w:.1f}" height="{row * 0.6:.1f}" fill="{color}">'
            f"<title>{escape(label)}: {n:,} / {cap:,}</title></rect>"
        )
        x = LEFT + 60 + cap / ceiling * plot_w
        parts.append(f'<line {CAP} x1="{x:.1f}" x2="{x:.1f}" y1="{y + row * 0.1:.1f}" y2="{y + row * 0.9:.1f}"/>')
        parts.append(f'<text {SMALL} x="{LEFT + 66 + w:.1f}" y="{y + row / 2 + 4:.1f}">{n:,} / {cap:,}</text>')
    return _svg(title, parts)
