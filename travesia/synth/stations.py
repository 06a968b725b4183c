"""The stations of the synthetic Darién flow (the demo's, and those `travesia synth` writes beside its population
as stations.jsonl, for `travesia stations import`). Places and capacities follow the public reports in
../shared/reference; nothing here is operational data."""

from __future__ import annotations

import json
from pathlib import Path

from travesia.stations.schemas import StationCreate

STATIONS = [
    StationCreate(code="SNM-HQ", name="Servicio Nacional de Migración, sede central", kind="headquarters",
                  region="Panamá", latitude=8.98, longitude=-79.52),
    StationCreate(code="BAJO-CHIQUITO", name="Bajo Chiquito", kind="reception", region="Darién",
                  latitude=8.08, longitude=-77.55, capacity=500),
    StationCreate(code="CANAAN-MEMBRILLO", name="Canaán Membrillo", kind="reception", region="Darién",
                  latitude=7.92, longitude=-77.70, capacity=300),
    StationCreate(code="ERM-LAJAS-BLANCAS", name="ERM Lajas Blancas", kind="reception", region="Darién",
                  latitude=8.27, longitude=-77.79, capacity=1000),
    StationCreate(code="ERM-SAN-VICENTE", name="ERM San Vicente", kind="reception", region="Darién",
                  latitude=8.36, longitude=-77.93, capacity=544),
    StationCreate(code="ERM-LOS-PLANES", name="ERM Los Planes de Gualaca", kind="reception", region="Chiriquí",
                  latitude=8.53, longitude=-82.30, capacity=1200),
]  # fmt: skip


def write_stations(folder: Path) -> Path:
    """stations.jsonl in ``folder``: one station a line, as `travesia stations import` reads them."""
    path = folder / "stations.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for station in STATIONS:
            out.write(json.dumps(station.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
    return path
