#!/usr/bin/env python3
"""Writes the fuzz seeds in corpus/parse/: one small hand-built blob per format plus
damaged variants (layouts from the crate docs), not copies of corpus files.
Run from this folder."""
import os
import struct

def u16(s):
    return s.encode('utf-16-le')

FT = 0x01C85A715603C0F0

def table(magic, header_len, entry, paths, is64):
    """Fixed-table blob: header with magic and count, entries, then the path strings."""
    size = len(entry(0, 0, 0))
    table_end = header_len + size * len(paths)
    head = struct.pack('<II', magic, len(paths)).ljust(header_len, b'\0')
    body, strings = b'', b''
    for p in paths:
        t = u16(p)
        body += entry(len(t), table_end + len(strings), 2)
        strings += t + b'\0\0'
    return head + body + strings

def vista32(n, off, flags):
    return struct.pack('<HHIQII', n, n + 2, off, FT, flags, 0)

def vista64(n, off, flags):
    return struct.pack('<HHIQQII', n, n + 2, 0, off, FT, flags, 0)

def win7_32(n, off, flags):
    return struct.pack('<HHIQIIII', n, n + 2, off, FT, flags, 0, 0, 0)

def win7_64(n, off, flags):
    return struct.pack('<HHIQQIIQQ', n, n + 2, 0, off, FT, flags, 0, 0, 0)

def tagged(header_len, first_u32, tag, paths, win8, count_at=None):
    head = bytearray(header_len)
    struct.pack_into('<I', head, 0, first_u32)
    if count_at is not None:
        struct.pack_into('<I', head, count_at, len(paths))
    out = bytes(head)
    for p in paths:
        t = u16(p)
        rec = struct.pack('<H', len(t)) + t
        if win8:
            rec += struct.pack('<HII', 0, 2, 0)
        rec += struct.pack('<QI', FT, 4) + b'\x01\x02\x03\x04'
        out += tag + struct.pack('<II', 0x12345678, len(rec)) + rec
    return out

def xp(paths):
    head = struct.pack('<IIII', 0xDEADBEEF, 4, len(paths), 0).ljust(400, b'\0')
    slots = b''
    for p in paths:
        slots += u16(p).ljust(528, b'\0') + struct.pack('<QQQ', FT, 1234, FT)
    return head + slots

P = [r'\??\C:\Windows\a.exe', r'C:\b.exe']
seeds = {
    'xp': xp(P),
    'vista32': table(0xBADC0FFE, 8, vista32, P, False),
    'vista64': table(0xBADC0FFE, 8, vista64, P, True),
    'win7_32': table(0xBADC0FEE, 128, win7_32, P, False),
    'win7_64': table(0xBADC0FEE, 128, win7_64, P, True),
    'win80': tagged(128, 0, b'00ts', P, True),
    'win81': tagged(128, 0x80, b'10ts', P, True),
    'win10': tagged(0x30, 0x30, b'10ts', P, False, 0x24),
    'win10_creators': tagged(0x34, 0x34, b'10ts', P, False, 0x28),
    'win10_trailing': tagged(0x30, 0x30, b'10ts', P, False, 0x24) + b'\0\0\0\0junk',
    'win10_cut': tagged(0x30, 0x30, b'10ts', P, False, 0x24)[:-9],
    'vista_huge_count': struct.pack('<II', 0xBADC0FFE, 0xFFFFFFFF) + b'\0' * 40,
    'win7_short': struct.pack('<II', 0xBADC0FEE, 3) + b'\0' * 20,
    'xp_no_nul': struct.pack('<IIII', 0xDEADBEEF, 1, 1, 0).ljust(400, b'\0') + b'A' * 552,
}
os.makedirs('corpus/parse', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('corpus/parse', name), 'wb') as f:
        f.write(data)
