"""Hostile and broken files: each is refused with a FormatError that names the file and the problem."""

from __future__ import annotations

import gzip
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soleware.formats import DEFAULT_MAX_BYTES, FormatError, FormatNote, export_run, import_file
from soleware.formats.fit import read_fit

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}><trk><name>&lol9;</name></trk></{root}>"""


def xxe(secret_path: str, root: str = "gpx") -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret_path}">]>\n'
        f'<{root} version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
        f'<trk><name>&xxe;</name><trkseg><trkpt lat="1" lon="1"><time>2025-01-01T00:00:00Z</time></trkpt>'
        f'<trkpt lat="1.001" lon="1"><time>2025-01-01T00:00:30Z</time></trkpt></trkseg></trk></{root}>'
    )


@pytest.fixture
def fit_bytes(realistic_run) -> bytes:
    return export_run(realistic_run, "fit")


def test_default_size_limit_is_50_mb():
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024


def test_fit_cut_before_its_records_is_rejected_as_truncated(fit_bytes):
    with pytest.raises(FormatError, match=r"^run\.fit: FIT file is truncated: header announces") as info:
        import_file(fit_bytes[:60], name="run.fit")
    assert info.value.code == "truncated"


@pytest.mark.parametrize("where", [-1, 2000])
def test_fit_with_wrong_crc_is_rejected(fit_bytes, where):
    broken = bytearray(fit_bytes)
    broken[where] ^= 0x5A
    with pytest.raises(FormatError, match=r"^run\.fit: FIT file is corrupt: CRC check failed"):
        import_file(bytes(broken), name="run.fit")


def test_png_renamed_fit_is_rejected_as_png(tmp_path):
    path = tmp_path / "holiday.fit"
    path.write_bytes(PNG)
    with pytest.raises(FormatError, match=r"^holiday\.fit: not a FIT file .*PNG image"):
        import_file(path)


def test_fit_renamed_tcx_is_rejected(fit_bytes):
    with pytest.raises(FormatError, match=r"^run\.tcx: not a TCX file \(the data looks like fit\)"):
        import_file(fit_bytes, name="run.tcx")


@pytest.mark.parametrize("suffix", [".fit", ".tcx", ".gpx", ".fit.gz"])
def test_empty_files_are_rejected(tmp_path, suffix):
    path = tmp_path / f"nothing{suffix}"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match=f"^nothing{suffix}: "):
        import_file(path)


def test_unknown_content_without_extension_is_rejected():
    with pytest.raises(
        FormatError, match=r"^upload: not a FIT, TCX or GPX activity \(the data looks like a PNG image\)"
    ):
        import_file(PNG, name="upload")


def test_huge_file_is_refused_before_reading(tmp_path, fit_bytes):
    path = tmp_path / "huge.fit"
    path.write_bytes(fit_bytes)
    with pytest.raises(FormatError, match=r"^huge\.fit: file is .* larger than the limit"):
        import_file(path, max_bytes=len(fit_bytes) - 1)
    with pytest.raises(FormatError, match="larger than the limit"):
        import_file(fit_bytes, name="huge.fit", max_bytes=1000)
    assert import_file(path, max_bytes=len(fit_bytes)).distance_m > 0


def test_gzip_bomb_is_stopped_at_the_limit():
    bomb = gzip.compress(bytes(30 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    t0 = time.perf_counter()
    with pytest.raises(FormatError, match=r"^bomb\.fit\.gz: file is larger than the limit of 1 MB"):
        import_file(bomb, name="bomb.fit.gz", max_bytes=1024 * 1024)
    assert time.perf_counter() - t0 < 2.0


def test_broken_gzip_is_rejected(fit_bytes):
    data = bytearray(gzip.compress(fit_bytes))
    data[len(data) // 2 : len(data) // 2 + 8] = bytes(8)
    with pytest.raises(FormatError, match=r"^run\.fit\.gz: broken gzip data") as info:
        import_file(bytes(data), name="run.fit.gz")
    assert info.value.code == "damaged"


def test_fit_with_an_impossible_header_size_is_refused_as_damaged(fit_bytes):
    with pytest.raises(FormatError, match=r"^run\.fit: not a FIT file: header size 20 is neither") as info:
        import_file(bytes([20]) + fit_bytes[1:], name="run.fit")
    assert info.value.code == "damaged"


def test_gzip_that_ends_before_its_stream_gives_the_file_cut_short(fit_bytes):
    """A download broken off: what the data holds is the file cut short, read up to there (its reader says so);
    one that ends before anything of the file is refused as truncated."""
    data = gzip.compress(fit_bytes)
    notes: list[FormatNote] = []
    run = import_file(data[: len(data) // 2], name="run.fit.gz", notes=notes)
    assert notes[0].code == "cut_short" and 0 < run.distance_m < import_file(fit_bytes).distance_m
    notes = []
    assert import_file(data[:-4], name="run.fit.gz", notes=notes).distance_m == pytest.approx(
        import_file(fit_bytes).distance_m
    )  # only the gzip trailer lost: the file inside is whole
    assert notes == []
    with pytest.raises(FormatError, match=r"broken gzip data \(the data ends") as info:
        import_file(data[:12], name="run.fit.gz")
    assert info.value.code == "truncated"


@pytest.mark.parametrize(("name", "root"), [("lol.gpx", "gpx"), ("lol.tcx", "TrainingCenterDatabase")])
def test_billion_laughs_is_rejected_quickly(name, root):
    t0 = time.perf_counter()
    with pytest.raises(FormatError, match="DOCTYPE or entity declarations") as info:
        import_file(BILLION_LAUGHS.replace(b"{root}", root.encode()), name=name)
    assert (info.value.code, info.value.params) == ("unsafe", {"kind": "entities"})
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_external_entity_is_not_resolved(tmp_path, encoding):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    text = xxe(str(secret))
    if encoding != "utf-8":
        text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    with pytest.raises(FormatError, match="DOCTYPE") as info:
        import_file(text.encode(encoding), name="xxe.gpx")
    assert "TOP-SECRET" not in str(info.value)


def test_malformed_xml_is_rejected():
    """Malformed before its end is no document cut short: refused, not read in recovering mode."""
    broken = b"<?xml version='1.0'?><gpx><trk><trkseg></trk></trkseg></gpx>"
    with pytest.raises(
        FormatError, match=r"^mixed\.gpx: malformed XML \(Opening and ending tag mismatch"
    ) as info:
        import_file(broken, name="mixed.gpx")
    assert info.value.code == "damaged"


def test_xml_cut_before_its_activity_is_rejected_as_truncated():
    with pytest.raises(
        FormatError, match=r"^half\.tcx: file is truncated: the document stops at line 1"
    ) as info:
        import_file(b"<?xml version='1.0'?><TrainingCenterDatabase><Activities>", name="half.tcx")
    assert info.value.code == "truncated"


def test_xml_of_another_kind_is_rejected():
    with pytest.raises(
        FormatError, match=r"^x\.tcx: not a TCX v2 document \(root element is 'svg'\)"
    ) as info:
        import_file(b"<svg xmlns='http://www.w3.org/2000/svg'><TrainingCenterDatabase/></svg>", name="x.tcx")
    assert (info.value.code, info.value.params) == ("unknown_format", {"looks_like": "xml"})
    with pytest.raises(FormatError, match=r"^x\.gpx: not a GPX document") as info:
        import_file(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="x.gpx")
    assert info.value.code == "unknown_format"
    empty = b"<TrainingCenterDatabase xmlns='http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2'/>"
    with pytest.raises(FormatError, match="TCX document has no Activity") as info:
        import_file(empty, name="empty.tcx")
    assert info.value.code == "too_few"


def _with_crc(body: bytes) -> bytes:
    from garmin_fit_sdk.crc_calculator import CrcCalculator

    header = bytearray(body[:14])
    header[4:8] = struct.pack("<I", len(body) - 14)
    header[12:14] = struct.pack("<H", CrcCalculator.calculate_crc(bytes(header), 0, 12))
    data = bytes(header) + body[14:]
    return data + struct.pack("<H", CrcCalculator.calculate_crc(data, 0, len(data)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_fit_with_valid_crc_never_escapes_as_another_error(fit_bytes, data):
    """Garbage that passes the CRC check reaches the decoders: it must still end as FormatError or a Run."""
    body = bytearray(fit_bytes[:-2])
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(14, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(15, len(body)))
    mutated = _with_crc(bytes(body[:cut]))
    try:
        run = read_fit(mutated, name="fuzz.fit")
    except FormatError as exc:
        assert str(exc).startswith("fuzz.fit: ")
    else:
        assert run.elapsed_time_s >= 0


def test_gzip_bomb_under_the_size_limit_is_refused_by_its_expansion():
    """45 MiB of zeros fit under the 50 MiB limit but expand ~1000:1; no activity file compresses like that."""
    bomb = gzip.compress(bytes(45 * 1024 * 1024))
    with pytest.raises(
        FormatError, match=r"^bomb\.gpx\.gz: compressed data expands \d+:1 .*decompression bomb"
    ):
        import_file(bomb, name="bomb.gpx.gz")


def test_gzip_with_several_members_reads_them_all(fit_bytes):
    cut = len(fit_bytes) // 3
    data = gzip.compress(fit_bytes[:cut]) + gzip.compress(fit_bytes[cut:])
    assert (
        import_file(data, name="run.fit.gz").distance_m == import_file(fit_bytes, name="run.fit").distance_m
    )
