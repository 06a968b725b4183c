"""Build travesia/persons/outlines.json, the country outlines the route map draws on, from world-atlas.

world-atlas (npm, ISC licence) is Natural Earth's public-domain Admin 0 countries as TopoJSON. The map needs no
tile server and no run-time download: this script runs once, by hand, and its output is committed.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/outlines.py package/countries-50m.json package/countries-110m.json

Americas at 1:50m (Panama's isthmus needs it), the rest of the world at 1:110m; coordinates in hundredths of a
degree rounded to STEP, rings with fewer than four points after rounding dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pycountry

STEP = 5  # hundredths of a degree: 0.05° is about 5 km, finer than the map is ever drawn
AMERICAS = (-125.0, -60.0, -25.0, 35.0)  # west, south, east, north
OUT = Path(__file__).resolve().parent.parent / "travesia" / "persons" / "outlines.json"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        points.extend(arc if not points else arc[1:])
    return points


def rounded(points: list[tuple[float, float]]) -> list[int]:
    flat: list[int] = []
    last = None
    for lon, lat in points:
        q = (round(lon * 100 / STEP) * STEP, round(lat * 100 / STEP) * STEP)
        if q != last:
            flat.extend(q)
            last = q
    return flat


def countries(path: Path) -> dict[str, list[list[int]]]:
    topology = json.loads(path.read_text())
    arcs = decode_arcs(topology)
    out: dict[str, list[list[int]]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=str(geometry.get("id", "")).zfill(3))
        if country is None or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [rounded(ring(arcs, polygon[0])) for polygon in polygons]  # outer rings: holes never matter here
        out[country.alpha_3] = [r for r in rings if len(r) >= 8]
    return out


def in_americas(rings: list[list[int]]) -> bool:
    west, south, east, north = AMERICAS
    lons = [r[i] / 100 for r in rings for i in range(0, len(r), 2)]
    lats = [r[i] / 100 for r in rings for i in range(1, len(r), 2)]
    return bool(lons) and west <= sum(lons) / len(lons) <= east and south <= sum(lats) / len(lats) <= north


def main(fine: str, coarse: str) -> None:
    detailed, world = countries(Path(fine)), countries(Path(coarse))
    merged = {
        code: (detailed[code] if code in detailed and in_americas(detailed[code]) else rings)
        for code, rings in world.items()
    }
    for code, rings in detailed.items():
        if in_americas(rings):
            merged.setdefault(code, rings)
    payload = {
        "source": "Natural Earth Admin 0 (public domain) via world-atlas 2.0.2 (ISC); Americas 1:50m, rest 1:110m",
        "unit": "hundredths of a degree, [lon, lat, lon, lat, ...] per outer ring",
        "countries": {code: merged[code] for code in sorted(merged) if merged[code]},
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(payload['countries'])} countries, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(*sys.argv[1:3])
