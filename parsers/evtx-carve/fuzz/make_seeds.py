#!/usr/bin/env python3
"""Writes the fuzz seeds for evtx-carve from the format description (no corpus bytes):
a one-record chunk with correct CRCs, a lone record, a chunk cut short, and a run of
record signatures with hostile sizes."""
import struct, zlib, pathlib

out = pathlib.Path(__file__).parent / "corpus" / "scan"
out.mkdir(parents=True, exist_ok=True)

def record(record_id, size=40):
    body = b"**\0\0" + struct.pack("<IQQ", size, record_id, 0x01D834B54842FB73)
    body += b"\0" * (size - len(body) - 4)
    return body + struct.pack("<I", size)

def chunk():
    c = bytearray(0x10000)
    c[:8] = b"ElfChnk\0"
    struct.pack_into("<QQQQ", c, 8, 1, 1, 7, 7)
    rec = record(7)
    c[512:512 + len(rec)] = rec
    end = 512 + len(rec)
    struct.pack_into("<I", c, 48, end)
    struct.pack_into("<I", c, 52, zlib.crc32(bytes(c[512:end])))
    struct.pack_into("<I", c, 124, zlib.crc32(bytes(c[:120]) + bytes(c[128:512])))
    return bytes(c)

(out / "one-record-chunk").write_bytes(b"\xAA" * 100 + chunk())
(out / "lone-record").write_bytes(record(42))
(out / "chunk-cut-short").write_bytes(chunk()[:4096])
(out / "hostile-sizes").write_bytes(b"".join(b"**\0\0" + struct.pack("<I", n) for n in (0, 8, 0xFFFFFFFF, 0x10000, 27)))
