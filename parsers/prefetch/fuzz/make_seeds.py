#!/usr/bin/env python3
"""Writes the fuzz seeds in corpus/parse/: small Prefetch files built from the
format description (libscca's "Windows Prefetch File (PF) format"), not copied
from any real file. tests/fuzz_corpus.rs also checks the values written here.

Run from this directory: python3 make_seeds.py
"""

import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "parse")

EXE = "TOOL.EXE"
HASH = 0x12345678
RUN_COUNT = 3
# FILETIMEs, newest first as Windows writes them.
RUN_TIMES = [0x01D8_3000_0000_0000, 0x01D8_2000_0000_0000]
VOLUME_CREATED = 0x01D0_F9A1_9C58_6134
SERIAL = 0xCAFEF00D
DEVICE = "\\DEVICE\\HARDDISKVOLUME2"
FILES = [DEVICE + "\\WINDOWS\\SYSTEM32\\NTDLL.DLL", DEVICE + "\\TOOLS\\TOOL.EXE"]
DIRECTORIES = [DEVICE + "\\TOOLS", DEVICE + "\\WINDOWS"]

# version -> (file information size, last-run offset, slots, run-count offset,
#             volume entry size); offsets relative to the file information.
LAYOUTS = {
    "v17": (17, 68, 36, 1, 60, 40),
    "v23": (23, 156, 44, 1, 68, 104),
    "v26": (26, 220, 44, 8, 124, 104),
    "v30-variant1": (30, 220, 44, 8, 124, 96),
    "v30-variant2": (30, 212, 44, 8, 116, 96),
    "v31": (31, 212, 44, 8, 116, 96),
}


def utf16z(text):
    return text.encode("utf-16-le") + b"\0\0"


def scca(name):
    version, info_len, last_run, slots, run_count, entry_len = LAYOUTS[name]
    metrics = 84 + info_len
    # One metrics entry per file name (start, duration, [average,] name offset,
    # name length, flags[, file reference]) and one trace-chain entry each.
    metric_entries = b""
    name_offset = 0
    for f in FILES:
        if version == 17:
            metric_entries += struct.pack("<5I", 0, 1, name_offset, len(f), 0)
        else:
            metric_entries += struct.pack("<6IQ", 0, 1, 1, name_offset, len(f), 0, 0)
        name_offset += len(utf16z(f))
    chain = struct.pack("<IBBH", 1, 2, 1, 0xFFFF)
    if version < 30:
        chain = struct.pack("<I", 0xFFFFFFFF) + chain
    traces = metrics + len(metric_entries)
    trace_entries = chain * len(FILES)
    strings = traces + len(trace_entries)
    names = b"".join(utf16z(f) for f in FILES)
    names_size = len(names)
    names += b"\0" * (-len(names) % 8)  # alignment padding, outside the size
    volumes = strings + len(names)
    path_at = entry_len
    dirs_at = path_at + len(utf16z(DEVICE))
    dirs = b"".join(
        struct.pack("<H", len(d)) + utf16z(d) for d in DIRECTORIES)
    entry = bytearray(entry_len)
    struct.pack_into("<IIQIIIII", entry, 0, path_at, len(DEVICE), VOLUME_CREATED,
                     SERIAL, 0, 0, dirs_at, len(DIRECTORIES))
    volume_section = bytes(entry) + utf16z(DEVICE) + dirs

    info = bytearray(info_len)
    struct.pack_into("<9I", info, 0, metrics, len(FILES), traces, len(FILES),
                     strings, names_size, volumes, 1, len(volume_section))
    for i, t in enumerate(RUN_TIMES[:slots]):
        struct.pack_into("<Q", info, last_run + 8 * i, t)
    struct.pack_into("<I", info, run_count, RUN_COUNT)

    size = volumes + len(volume_section)
    header = struct.pack("<I4sII", version, b"SCCA", 0x11, size)
    header += EXE.encode("utf-16-le").ljust(60, b"\0") + struct.pack("<II", HASH, 0)
    data = header + bytes(info) + metric_entries + trace_entries + names + volume_section
    assert len(data) == size
    return data


def mam(data):
    """A MAM\\x04 file holding one literal-only LZXPRESS Huffman block: every byte
    value gets an 8-bit code, so canonical code of byte b is b itself, and the
    bit stream is the data packed into little-endian 16-bit words, high byte
    first. Four spare bytes keep the decoder's 32-bit window fed."""
    assert len(data) <= 65536
    table = bytes([0x88] * 128 + [0] * 128)
    padded = data + b"\0" * ((-len(data) % 2) + 4)
    stream = b"".join(padded[i + 1:i + 2] + padded[i:i + 1]
                      for i in range(0, len(padded), 2))
    return b"MAM\x04" + struct.pack("<I", len(data)) + table + stream


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    for name in LAYOUTS:
        seeds[name + ".pf"] = scca(name)
    seeds["v30-variant2-mam.pf"] = mam(scca("v30-variant2"))
    seeds["v31-mam.pf"] = mam(scca("v31"))
    # Damage that must be reported, never panic.
    v30 = scca("v30-variant2")
    seeds["truncated-header.pf"] = v30[:60]
    seeds["truncated-info.pf"] = v30[:150]
    seeds["truncated-volumes.pf"] = v30[:len(v30) - 40]
    huge_volumes = bytearray(v30)
    struct.pack_into("<I", huge_volumes, 84 + 28, 0xFFFFFFFF)
    seeds["huge-volume-count.pf"] = bytes(huge_volumes)
    bad_dirs = bytearray(v30)
    vol = struct.unpack_from("<I", v30, 84 + 24)[0]
    struct.pack_into("<I", bad_dirs, vol + 32, 0x7FFFFFFF)
    seeds["huge-directory-count.pf"] = bytes(bad_dirs)
    seeds["unknown-version.pf"] = struct.pack("<I", 29) + v30[4:]
    seeds["mam-huge-size.pf"] = b"MAM\x04" + struct.pack("<I", 0xFFFFFFF0) + bytes(300)
    seeds["mam-empty-table.pf"] = b"MAM\x04" + struct.pack("<I", 100) + bytes(300)
    seeds["mam-truncated.pf"] = mam(v30)[:200 + 256]
    seeds["mam-checksum-format.pf"] = b"MAM\x84" + mam(v30)[4:]
    seeds["not-prefetch.pf"] = b"not a prefetch file\n"
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
