#!/usr/bin/env python3
"""Builds the small hand-made seed inputs in corpus/hive/ (run from this directory).

Each seed is a whole hive (base block + one 4096-byte hive bin), optionally followed
by a marker-free log in a separate file; the fuzz target also feeds each input to
log replay as its own log. Built from the format description in ../src, not copied
from any real hive.
"""
import struct, os

OUT = 'corpus/hive'
M = 0xffffffff

def checksum(bb):
    x = 0
    for i in range(0, 508, 4):
        x ^= struct.unpack_from('<I', bb, i)[0]
    return {0: 1, M: M - 1}.get(x, x)

def base_block(seq1, seq2, hbins, root=0x20, file_type=0, minor=5):
    bb = bytearray(4096)
    struct.pack_into('<4sIIQIIIIIII', bb, 0, b'regf', seq1, seq2, 0x01D0000000000000,
                     1, minor, file_type, 1, root, hbins, 1)
    name = 'seed.hve'.encode('utf-16le')
    bb[48:48 + len(name)] = name
    struct.pack_into('<I', bb, 508, checksum(bb))
    return bb

class Bin:
    def __init__(self):
        self.data = bytearray(4096)
        struct.pack_into('<4sII', self.data, 0, b'hbin', 0, 4096)
        self.pos = 32
    def cell(self, payload):
        size = (len(payload) + 4 + 7) // 8 * 8
        off = self.pos
        struct.pack_into('<i', self.data, off, -size)
        self.data[off + 4:off + 4 + len(payload)] = payload
        self.pos += size
        return off
    def close(self):
        if self.pos < 4096:
            struct.pack_into('<i', self.data, self.pos, 4096 - self.pos)

def nk(name, parent, nsub=0, sublist=M, nval=0, vallist=M, cls=M, cls_len=0, flags=0x20, when=0x01D5000000000000):
    enc = name.encode('latin-1') if flags & 0x20 else name.encode('utf-16le')
    return struct.pack('<2sHQIIIIIIIIIIIIIIIHH', b'nk', flags, when, 0, parent, nsub, 0, sublist, M,
                       nval, vallist, M, cls, 0, 0, 0, 0, 0, len(enc), cls_len) + enc

def vk(name, vtype, size, off, flags=1):
    enc = name.encode('latin-1')
    return struct.pack('<2sHIIIHH', b'vk', len(enc), size, off, vtype, flags, 0) + enc

def basic(loop_ri=False, big=False, utf16=False):
    b = Bin()
    root_off = 32  # first cell
    # Reserve the root cell size up front: write it after children are known.
    placeholder = b.cell(bytes(100))
    assert placeholder == root_off
    sz = b.cell('hello'.encode('utf-16le') + b'\0\0')
    msz = b.cell('a\0b\0'.encode('utf-16le') + b'\0\0')
    vals = [
        b.cell(vk('sz', 1, 12, sz)),
        b.cell(vk('dw', 4, 0x80000004, 0x12345678)),
        b.cell(vk('be', 5, 0x80000004, 0x01000000)),
        b.cell(vk('ms', 7, 10, msz)),
        b.cell(vk('', 3, 0x80000002, 0x0409)),
        b.cell(vk('odd', 1, 5, sz)),
        b.cell(vk('weird', 0x1f4, 0, 0)),
    ]
    if big:
        seg1 = b.cell(bytes([0x41]) * 400)
        seg2 = b.cell(bytes([0x42]) * 40)
        segs = b.cell(struct.pack('<II', seg1, seg2))
        db = b.cell(struct.pack('<2sHI', b'db', 2, segs))
        vals.append(b.cell(vk('big', 3, 16400, db)))
    vlist = b.cell(b''.join(struct.pack('<I', v) for v in vals))
    cls = b.cell('cls'.encode('utf-16le'))
    child_name = 'Ünïcode' if utf16 else 'Child'
    child = b.cell(nk(child_name, root_off, flags=0 if utf16 else 0x20))
    leaf = b.cell(struct.pack('<2sHII', b'lf', 1, child, 0))
    if loop_ri:
        # An index root whose only element is itself.
        ri_off = b.pos
        sub = b.cell(struct.pack('<2sHI', b'ri', 1, ri_off))
    else:
        sub = b.cell(struct.pack('<2sHI', b'ri', 1, leaf))
    root = nk('ROOT', 0, nsub=1, sublist=sub, nval=len(vals), vallist=vlist, cls=cls, cls_len=6, flags=0x24)
    struct.pack_into('<i', b.data, root_off, -((len(root) + 4 + 7) // 8 * 8))
    assert len(root) + 4 <= 104
    b.data[root_off + 4:root_off + 4 + len(root)] = root
    b.close()
    return b.data

def ri_repeat():
    """An index root listing one 10-entry leaf 100 times: 1000 subkeys claimed in a
    4096-byte bin that can hold at most 512 cells."""
    b = Bin()
    root_off = b.cell(bytes(100))
    child = b.cell(nk('Child', root_off))
    leaf = b.cell(struct.pack('<2sH', b'li', 10) + struct.pack('<I', child) * 10)
    sub = b.cell(struct.pack('<2sH', b'ri', 100) + struct.pack('<I', leaf) * 100)
    root = nk('ROOT', 0, nsub=1000, sublist=sub, flags=0x24)
    struct.pack_into('<i', b.data, root_off, -104)
    b.data[root_off + 4:root_off + 4 + len(root)] = root
    b.close()
    return b.data

def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)

def rol(x, n): return ((x << n) | (x >> (32 - n))) & M
def marvin(data, seed=0x82EF4D887A4E55C5):
    lo, hi = seed & M, seed >> 32
    def mix(lo, hi):
        hi ^= lo; lo = rol(lo, 20); lo = (lo + hi) & M; hi = rol(hi, 9)
        hi ^= lo; lo = rol(lo, 27); lo = (lo + hi) & M; hi = rol(hi, 19)
        return lo, hi
    n = len(data) // 4
    for i in range(n):
        lo = (lo + struct.unpack_from('<I', data, i * 4)[0]) & M; lo, hi = mix(lo, hi)
    tail = data[n * 4:] + b'\x80\0\0\0'
    lo = (lo + struct.unpack_from('<I', tail)[0]) & M
    lo, hi = mix(lo, hi); lo, hi = mix(lo, hi)
    return (hi << 32) | lo

def hvle(seq, pages):
    refs = b''.join(struct.pack('<II', off, len(d)) for off, d in pages)
    body = refs + b''.join(d for _, d in pages)
    size = (40 + len(body) + 511) // 512 * 512
    body = body.ljust(size - 40, b'\0')
    head = struct.pack('<4sIIIII', b'HvLE', size, 0, seq, 4096, len(pages))
    h1 = marvin(body)
    h2 = marvin(head + struct.pack('<Q', h1))
    return head + struct.pack('<QQ', h1, h2) + body

def main():
    os.makedirs(OUT, exist_ok=True)
    clean = basic()
    write('clean', base_block(1, 1, 4096) + clean)
    write('big_data', base_block(1, 1, 4096) + basic(big=True))
    write('utf16_names', base_block(1, 1, 4096) + basic(utf16=True))
    write('ri_loop', base_block(1, 1, 4096) + basic(loop_ri=True))
    write('ri_repeat', base_block(1, 1, 4096) + ri_repeat())
    write('truncated', (base_block(1, 1, 4096) + clean)[:4096 + 200])
    write('bad_checksum', bytes(base_block(1, 1, 4096)[:508]) + b'\0\0\0\0' + bytes(3584) + clean)
    # Dirty primary (sequence 2 vs 1) followed by a new-format log of one entry.
    dirty = base_block(2, 1, 4096) + bytes(4096)
    log = bytes(base_block(2, 1, 4096, file_type=6)[:512]) + hvle(1, [(0, bytes(clean))])
    write('dirty_new', dirty)
    write('dirty_new.LOG1', log)
    # Old-format log: DIRT vector with all 8 pages dirty, then the pages.
    old = bytes(base_block(2, 2, 4096, file_type=1)[:512]) + (b'DIRT' + b'\xff').ljust(512, b'\0') + bytes(clean)
    write('dirty_old.LOG1', old)


if __name__ == '__main__':
    main()
