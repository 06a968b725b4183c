"""A person's record as it is exchanged with a partner, and the one function that cuts it down to what an agreement
allows: pure data, no database. Every export, answer and import passes through ``only_agreed``, so a field that is
not in the agreement has no path out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# The biographic fields an agreement can name (what each holds is in docs/exchange.md).
FIELDS = (
    "names",  # given names and surnames
    "birth_date",  # as precise as it was registered: YYYY-MM-DD, YYYY-MM or YYYY
    "sex",
    "nationality",
    "country_of_birth",
    "documents",  # type, number, issuing state, expiry
    "phone",
    "languages",
    "route",  # countries crossed, in order
    "encounter",  # where and when the person was registered (station, date)
)
MODALITIES = ("face", "finger")
DIRECTIONS = ("export", "query", "import")


@dataclass(frozen=True)
class Image:
    format: str  # jpeg, png, wsq
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class DocumentRef:
    doc_type: str
    number: str
    issuing_state: str | None = None
    expiry_date: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True)
class PersonRecord:
    """One person as exchanged: ``ref`` is the sender's id for the person (ours: the person's UUID)."""

    ref: str
    given_names: str | None = None
    surnames: str | None = None
    birth_date: str | None = None
    sex: str | None = None  # F, M, X
    nationality: str | None = None  # ISO 3166-1 alpha-3
    country_of_birth: str | None = None
    documents: tuple[DocumentRef, ...] = ()
    phone: str | None = None
    languages: tuple[str, ...] = ()
    route: tuple[str, ...] = ()
    station: str | None = None
    registered_on: str | None = None  # YYYY-MM-DD
    face: Image | None = None
    fingers: dict[int, Image] = field(default_factory=dict)  # ISO/IEC 19794-4 position → image


# Each agreement field → the record's attributes it covers.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "names": ("given_names", "surnames"),
    "birth_date": ("birth_date",),
    "sex": ("sex",),
    "nationality": ("nationality",),
    "country_of_birth": ("country_of_birth",),
    "documents": ("documents",),
    "phone": ("phone",),
    "languages": ("languages",),
    "route": ("route",),
    "encounter": ("station", "registered_on"),
}
EMPTY_TUPLES = {"documents", "languages", "route"}


def only_agreed(record: PersonRecord, fields: frozenset[str], modalities: frozenset[str]) -> PersonRecord:
    """The record with every field and image the agreement does not name blanked."""
    blank: dict[str, object] = {}
    for name, attributes in ATTRIBUTES.items():
        if name not in fields:
            blank.update({a: () if a in EMPTY_TUPLES else None for a in attributes})
    if "face" not in modalities:
        blank["face"] = None
    if "finger" not in modalities:
        blank["fingers"] = {}
    return replace(record, **blank)  # type: ignore[arg-type]


def fields_present(records: list[PersonRecord]) -> set[str]:
    """The agreement fields some record fills (to report what an inbound file carried beyond its agreement)."""
    return {name for name, attrs in ATTRIBUTES.items() for r in records if any(getattr(r, a) for a in attrs)}


def to_json(record: PersonRecord) -> dict[str, object]:
    """JSON of the record's non-empty parts (images as base64 elsewhere: this is the biographic part)."""
    out: dict[str, object] = {"ref": record.ref}
    for name in (
        "given_names",
        "surnames",
        "birth_date",
        "sex",
        "nationality",
        "country_of_birth",
        "phone",
        "station",
        "registered_on",
    ):
        value = getattr(record, name)
        if value is not None:
            out[name] = value
    if record.documents:
        out["documents"] = [{k: v for k, v in vars(d).items() if v is not None} for d in record.documents]
    for name in ("languages", "route"):
        if getattr(record, name):
            out[name] = list(getattr(record, name))
    if record.face is not None:
        out["face"] = {"format": record.face.format, "width": record.face.width, "height": record.face.height}
    if record.fingers:
        out["fingers"] = sorted(record.fingers)
    return out
