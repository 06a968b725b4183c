"""The route map of a person page, drawn as SVG on country outlines that ship with the package (no tile server).

Pure: countries and stations in, SVG markup out. ``outlines.json`` comes from Natural Earth (public domain) through
world-atlas (ISC); ``scripts/outlines.py`` builds it. The frame fits the countries on the route and the stations; the
outlines are thinned at drawing time to what shows at the map's scale (a point closer than a pixel and a half to the
last one drawn is skipped), which keeps a page that draws half a continent under a few tens of kilobytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

OUTLINES = Path(__file__).with_name("outlines.json")
WIDTH = 640
MAX_HEIGHT = 560
PAD_DEGREES = 2.0
MIN_PIXELS = 1.5
MIN_SPAN = 8.0  # degrees: a person seen at one station still sees where that is


@dataclass(frozen=True)
class Stop:
    """A station the person was registered at, in time order."""

    code: str
    name: str
    latitude: float
    longitude: float


@cache
def outlines() -> dict[str, list[list[tuple[float, float]]]]:
    raw = json.loads(OUTLINES.read_text())["countries"]
    return {
        code: [[(r[i] / 100, r[i + 1] / 100) for i in range(0, len(r), 2)] for r in rings]
        for code, rings in raw.items()
    }


def _main_ring(code: str) -> list[tuple[float, float]] | None:
    rings = outlines().get(code)
    if not rings:
        return None
    return max(rings, key=len)  # overseas territories (French Guiana for France) never stretch the frame


def centre(code: str) -> tuple[float, float] | None:
    ring = _main_ring(code)
    if ring is None:
        return None
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _bbox(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


@dataclass(frozen=True)
class Frame:
    west: float
    south: float
    east: float
    north: float

    @property
    def kx(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def scale(self) -> float:
        span_x = (self.east - self.west) * self.kx
        span_y = self.north - self.south
        return min(WIDTH / span_x, MAX_HEIGHT / span_y)

    @property
    def height(self) -> int:
        return max(120, round((self.north - self.south) * self.scale))

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale

    def touches(self, box: tuple[float, float, float, float]) -> bool:
        west, south, east, north = box
        return west <= self.east and east >= self.west and south <= self.north and north >= self.south


def frame_for(countries: list[str], stops: list[Stop]) -> Frame:
    points = [p for code in countries if (ring := _main_ring(code)) for p in ring]
    points += [(s.longitude, s.latitude) for s in stops]
    if not points:
        points = [(-83.0, 7.0), (-77.0, 10.0)]  # Panama, when nothing else is known
    west, south, east, north = _bbox(points)
    grow_x, grow_y = max(0.0, MIN_SPAN - (east - west)) / 2, max(0.0, MIN_SPAN - (north - south)) / 2
    pad_x, pad_y = PAD_DEGREES + grow_x, PAD_DEGREES + grow_y
    return Frame(west - pad_x, max(-89.0, south - pad_y), east + pad_x, min(89.0, north + pad_y))


def _drawable(ring: list[tuple[float, float]], frame: Frame) -> bool:
    west, _, east, _ = box = _bbox(ring)
    return east - west < 180 and frame.touches(box)  # a ring across the antimeridian would streak the map


def _path(ring: list[tuple[float, float]], frame: Frame) -> str:
    parts: list[str] = []
    last: tuple[float, float] | None = None
    for lon, lat in ring:
        x, y = frame.project(lon, lat)
        if last is not None and abs(x - last[0]) < MIN_PIXELS and abs(y - last[1]) < MIN_PIXELS:
            continue
        parts.append(f"{'L' if parts else 'M'}{x:.1f} {y:.1f}")
        last = (x, y)
    return "".join(parts) + "Z" if len(parts) >= 3 else ""


def render(route: list[str], stops: list[Stop], title: str) -> str:
    """An SVG of the countries crossed (highlighted, in order), the stations visited and the line joining them."""
    frame = frame_for(route, stops)
    on_route = set(route)
    shapes = []
    for code, rings in sorted(outlines().items()):
        main = _main_ring(code)
        if main is None or not frame.touches(_bbox([p for r in rings for p in r])):
            continue
        d = "".join(_path(ring, frame) for ring in rings if _drawable(ring, frame))
        if d:
            css = "country on-route" if code in on_route else "country"
            shapes.append(f'<path class="{css}" d="{d}"><title>{escape(code)}</title></path>')
    waypoints = [(code, c) for code in route if (c := centre(code))]
    line = [frame.project(*c) for _, c in waypoints] + [frame.project(s.longitude, s.latitude) for s in stops]
    marks = []
    for i, (code, c) in enumerate(waypoints, start=1):
        x, y = frame.project(*c)
        marks.append(f'<text class="country-label" x="{x:.1f}" y="{y:.1f}">{i}. {escape(code)}</text>')
    for s in stops:
        x, y = frame.project(s.longitude, s.latitude)
        marks.append(
            f'<circle class="station" cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{escape(s.name)}</title></circle>'
        )
    polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
    route_line = f'<polyline class="route" points="{polyline}"/>' if len(line) > 1 else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" viewBox="0 0 {WIDTH} {frame.height}" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">'
        f"<title>{escape(title)}</title>"
        f'<rect class="sea" width="{WIDTH}" height="{frame.height}"/>'
        + "".join(shapes)
        + route_line
        + "".join(marks)
        + "</svg>"
    )
