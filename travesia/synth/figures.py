"""The public figures the synthetic flow follows: yearly totals, nationality mix per year, seasonality, the
stations people pass in order, the languages they speak and the countries they crossed before Darién. Sources:
`shared/reference/darien-figures.md` (Panama's SNM as reported in the press; docs/synthetic-population.md)."""

from __future__ import annotations

YEARS = {2021: 133_726, 2022: 248_284, 2023: 520_085, 2024: 302_203, 2025: 3_091}
# Nationality shares per year (the named groups of the figures; the rest spread over the smaller origins).
MIX = {
    2021: {
        "HTI": 0.62,
        "CUB": 0.12,
        "CHL": 0.08,
        "BRA": 0.06,
        "VEN": 0.02,
        "CMR": 0.03,
        "IND": 0.03,
        "SOM": 0.02,
        "AFG": 0.02,
    },
    2022: {
        "VEN": 0.605,
        "ECU": 0.118,
        "HTI": 0.09,
        "CUB": 0.024,
        "COL": 0.05,
        "CHN": 0.03,
        "IND": 0.03,
        "AFG": 0.02,
        "CMR": 0.018,
        "SOM": 0.015,
    },
    2023: {
        "VEN": 0.632,
        "ECU": 0.11,
        "HTI": 0.089,
        "CHN": 0.049,
        "COL": 0.036,
        "IND": 0.02,
        "CHL": 0.02,
        "BRA": 0.016,
        "AFG": 0.012,
        "CMR": 0.008,
        "SOM": 0.008,
    },
    2024: {
        "VEN": 0.692,
        "COL": 0.058,
        "ECU": 0.054,
        "CHN": 0.041,
        "HTI": 0.04,
        "IND": 0.03,
        "AFG": 0.025,
        "CMR": 0.02,
        "SOM": 0.02,
        "PER": 0.02,
    },
    2025: {"VEN": 0.6, "COL": 0.15, "ECU": 0.1, "HTI": 0.05, "CHN": 0.05, "IND": 0.05},
}
# Monthly weights: 2023's and 2024's reported months, dry-season peak (Nov–Apr) elsewhere.
MONTHS = [1.0, 1.0, 1.3, 1.4, 1.2, 1.3, 1.9, 2.6, 2.2, 2.0, 1.2, 1.0]
FIRST = ["BAJO-CHIQUITO", "CANAAN-MEMBRILLO"]
SECOND = ["ERM-LAJAS-BLANCAS", "ERM-SAN-VICENTE"]
LAST = "ERM-LOS-PLANES"
LANGUAGES = {
    "HTI": ["ht", "fr"],
    "CHN": ["zh"],
    "IND": ["hi", "en"],
    "AFG": ["fa", "ps"],
    "CMR": ["fr", "en"],
    "SOM": ["so"],
    "BRA": ["pt", "ht"],
    "CHL": ["es", "ht"],
}
ROUTES = {
    "VEN": ["COL"],
    "COL": [],
    "ECU": ["COL"],
    "HTI": ["CHL", "PER", "ECU", "COL"],
    "CUB": ["GUY", "BRA", "COL"],
    "CHN": ["TUR", "ECU", "COL"],
    "IND": ["ARE", "BRA", "COL"],
    "AFG": ["IRN", "BRA", "COL"],
    "CMR": ["BRA", "PER", "ECU", "COL"],
    "SOM": ["TUR", "BRA", "COL"],
    "CHL": ["PER", "ECU", "COL"],
    "BRA": ["PER", "ECU", "COL"],
    "PER": ["ECU", "COL"],
}
