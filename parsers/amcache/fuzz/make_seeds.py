#!/usr/bin/env python3
"""Builds small hand-made Amcache hives in corpus/amcache/ (run from this directory),
using the hive-building helpers of ../../regf/fuzz/make_seeds.py."""
import os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'regf', 'fuzz'))
from make_seeds import Bin, nk, vk, base_block, M  # noqa: E402

OUT = 'corpus/amcache'

def sz(b, text):
    return b.cell(text.encode('utf-16le') + b'\0\0')

def value(b, name, kind, data):
    """kind: 'sz' text, 'dw' u32, 'qw' u64."""
    if kind == 'sz':
        off = sz(b, data)
        return b.cell(vk(name, 1, len(data.encode('utf-16le')) + 2, off))
    if kind == 'dw':
        return b.cell(vk(name, 4, 0x80000004, data))
    off = b.cell(struct.pack('<Q', data))
    return b.cell(vk(name, 11, 8, off))

def key(b, name, children=(), values=(), flags=0x20):
    sub = M
    if children:
        sub = b.cell(struct.pack('<2sH', b'lf', len(children)) +
                     b''.join(struct.pack('<II', c, 0) for c in children))
    vl = M
    if values:
        vl = b.cell(b''.join(struct.pack('<I', v) for v in values))
    return b.cell(nk(name, 0, nsub=len(children), sublist=sub, nval=len(values), vallist=vl, flags=flags))

def hive(win10=True, win7=True, sha='0000' + '0123456789abcdef0123456789abcdef01234567'):
    b = Bin()
    # The root cell must be first (root offset 0x20 in the base block): reserve it.
    root_off = b.cell(bytes(112))
    tops = []
    if win10:
        f = key(b, 'a.exe|1122334455667788', values=[
            value(b, 'LowerCaseLongPath', 'sz', 'c:\\tools\\a.exe'),
            value(b, 'Name', 'sz', 'a.exe'),
            value(b, 'FileId', 'sz', sha),
            value(b, 'Size', 'sz', '0x3e40'),
            value(b, 'LinkDate', 'sz', '02/21/2019 16:00:00'),
        ])
        d = key(b, 'c:/windows/system32/drivers/x.sys', values=[
            value(b, 'DriverName', 'sz', 'x.sys'),
            value(b, 'DriverTimeStamp', 'dw', 0x5C6ECA80),
        ])
        tops.append(key(b, 'InventoryApplicationFile', children=[f]))
        tops.append(key(b, 'InventoryDriverBinary', children=[d]))
    if win7:
        e = key(b, '1000015114', values=[
            value(b, '15', 'sz', 'C:\\Tools\\b.exe'),
            value(b, '101', 'sz', sha),
            value(b, '6', 'dw', 19456),
            value(b, '17', 'qw', 0x01D68F0000000000),
        ])
        vol = key(b, 'a7f6108c-f8fd-11ea-80b5-806e6f6e6963', children=[e])
        p = key(b, '0000a636d5d4fb40a944b3f5294471cb4bb90000ffff', values=[
            value(b, '0', 'sz', 'Tool'), value(b, 'a', 'qw', 1600468650)])
        tops.append(key(b, 'File', children=[vol]))
        tops.append(key(b, 'Programs', children=[p]))
    top = key(b, 'Root', children=tops)
    root = nk('{11517B7C-E79D-4e20-961B-75A811715ADD}', 0, nsub=1,
              sublist=b.cell(struct.pack('<2sHII', b'lf', 1, top, 0)), flags=0x24)
    # Re-point the reserved first cell at a real root: write the root there.
    cell_size = (len(root) + 4 + 7) // 8 * 8
    assert cell_size == 120, cell_size
    struct.pack_into("<i", b.data, root_off, -120)
    b.data[root_off + 4:root_off + 4 + len(root)] = root
    b.close()
    return bytes(base_block(1, 1, 4096) + b.data)

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in [
        ('both_layouts', hive()),
        ('win10_only', hive(win7=False)),
        ('win7_only_bad_sha', hive(win10=False, sha='0000xyz')),
    ]:
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)

if __name__ == '__main__':
    main()
