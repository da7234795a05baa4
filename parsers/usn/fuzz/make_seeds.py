#!/usr/bin/env python3
"""Writes the fuzz seeds in corpus/records/: small hand-built journals (layouts from
Microsoft's USN_RECORD_V2/V3/V4 docs), not copies of corpus files. Run from this folder."""
import os
import struct

def record(major, usn, name, name_offset=None):
    name = name.encode('utf-16-le')
    fixed = 76 if major == 3 else 60
    length = (fixed + len(name) + 7) & ~7
    ref = struct.pack('<QQ', 0x0002000000001234, 0) if major == 3 else struct.pack('<Q', 0x0002000000001234)
    parent = struct.pack('<QQ', 0x0005000000000005, 0) if major == 3 else struct.pack('<Q', 0x0005000000000005)
    body = struct.pack('<IHH', length, major, 0) + ref + parent
    body += struct.pack('<qQIIIIHH', usn, 0x01d4b29a7e004ce3, 0x80000102, 0, 0, 0x20,
                        len(name), fixed if name_offset is None else name_offset)
    body += name
    return body + b'\0' * (length - len(body))

def v4():
    return struct.pack('<IHH', 80, 4, 0) + b'\x2c' + b'\0' * 71

seeds = {
    'v2_pair': record(2, 0, 'New folder') + record(2, 80, 'New folder'),
    'v3_single': record(3, 0, 'file.txt'),
    'v4_between': record(2, 0, 'a') + v4() + record(2, 152, 'b'),
    'sparse_head': b'\0' * 4096 + record(2, 4096, 'after zeros'),
    'page_padding': record(2, 0, 'x' * 30) + b'\0' * (4096 - 128) + record(2, 4096, 'next page'),
    'garbage_between': record(2, 0, 'a') + b'\xab' * 24 + record(2, 0, 'b'),
    'truncated': record(2, 0, 'whole') + record(2, 0, 'cut off')[:40],
    'bad_name_offset': record(2, 0, 'x', name_offset=400),
    'odd_name_length': record(2, 0, 'x')[:56] + struct.pack('<HH', 3, 60) + record(2, 0, 'x')[60:],
    'huge_length': struct.pack('<IHH', 0xfffffff8, 2, 0) + b'\0' * 56,
    'tail_bytes': record(2, 0, 'a') + b'\x01\x02\x03',
}
os.makedirs('corpus/records', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('corpus/records', name), 'wb') as f:
        f.write(data)
