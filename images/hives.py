#!/usr/bin/python3
"""Write the registry hives of the win10-aptsim test image.

Usage: hives.py APPCOMPATCACHE_BIN OUT_DIR

hivex can edit a hive but not create one, so `empty_hive()` writes the smallest hive
hivex accepts (base block, one hive bin holding a root key and its security key), and
the keys and values below are then added with hivex. Version 1.3 is written on purpose:
hivex stores large values (the 114 KB AppCompatCache blob) in one cell, which is how
hives before 1.4 store them (1.4+ would use "db" big-data records).

Run under faketime (build.sh does) so key timestamps and the base block time are fixed;
the output is then byte-identical from run to run.

Format sources: the Windows registry file format notes of the libyal project
(libregf documentation) and hivex's own hivex(3) manual; the layout below is written
from those notes, not copied.
"""

import struct
import sys

import hivex

REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11

# 2022-03-10 21:00:00 UTC as a FILETIME: the day the change journal in the corpus starts.
FT_BASE = 132914196000000000
FT_MINUTE = 600_000_000


def filetime(minutes_after_base):
    return FT_BASE + minutes_after_base * FT_MINUTE


# ---------------------------------------------------------------- empty hive


def _sid(authority, *subs):
    return struct.pack("<BB", 1, len(subs)) + authority.to_bytes(6, "big") + b"".join(
        struct.pack("<I", s) for s in subs
    )


def _security_descriptor():
    """Self-relative SD: owner Administrators, group SYSTEM, DACL Everyone:KEY_ALL_ACCESS."""
    owner = _sid(5, 32, 544)
    group = _sid(5, 18)
    everyone = _sid(1, 0)
    ace = struct.pack("<BBHI", 0, 0, 8 + len(everyone), 0x000F003F) + everyone
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    header_len = 20
    off_owner = header_len
    off_group = off_owner + len(owner)
    off_dacl = off_group + len(group)
    header = struct.pack("<BBHIIII", 1, 0, 0x8004, off_owner, off_group, 0, off_dacl)
    return header + owner + group + acl


def _cell(payload):
    """A used cell: negative size, 8-byte aligned."""
    size = (4 + len(payload) + 7) & ~7
    return struct.pack("<i", -size) + payload + b"\0" * (size - 4 - len(payload))


def empty_hive(hive_name):
    """Bytes of a clean, empty version 1.3 hive whose root key is named ROOT."""
    hbin_size = 4096
    root_off = 0x20  # offsets are relative to the first hive bin
    name = b"ROOT"
    nk_len = 4 + 76 + len(name)
    sk_off = root_off + ((nk_len + 7) & ~7)
    nk = b"nk" + struct.pack(
        "<HQIIIIIIIIIIIIIIIHH",
        0x2C,  # KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
        FT_BASE,
        0,  # access bits
        0,  # parent: the root key has none
        0,  # subkeys
        0,  # volatile subkeys
        0xFFFFFFFF,  # subkey list
        0xFFFFFFFF,  # volatile subkey list
        0,  # values
        0xFFFFFFFF,  # value list
        sk_off,
        0xFFFFFFFF,  # class name
        0,  # max subkey name
        0,  # max class name
        0,  # max value name
        0,  # max value data
        0,  # work var
        len(name),
        0,  # class name length
    ) + name
    sd = _security_descriptor()
    sk = b"sk" + struct.pack("<HIIII", 0, sk_off, sk_off, 1, len(sd)) + sd
    cells = _cell(nk) + _cell(sk)
    free = hbin_size - 0x20 - len(cells)
    hbin_body = cells + struct.pack("<i", free) + b"\0" * (free - 4)
    hbin = b"hbin" + struct.pack("<IIQQI", 0, hbin_size, 0, FT_BASE, 0) + hbin_body
    assert len(hbin) == hbin_size

    file_name = hive_name.encode("utf-16-le")[:64].ljust(64, b"\0")
    base = b"regf" + struct.pack(
        "<IIQIIIIIII",
        1,  # primary sequence
        1,  # secondary sequence (equal: the hive is clean)
        FT_BASE,
        1,  # major version
        3,  # minor version
        0,  # file type: primary
        1,  # format: direct memory load
        root_off,
        hbin_size,
        1,  # clustering factor
    ) + file_name
    base = base.ljust(508, b"\0")
    checksum = 0
    for (word,) in struct.iter_unpack("<I", base):
        checksum ^= word
    base += struct.pack("<I", checksum)
    return base.ljust(4096, b"\0") + hbin


# ---------------------------------------------------------------- value helpers


def sz(text):
    return (REG_SZ, (text + "\0").encode("utf-16-le"))


def expand_sz(text):
    return (REG_EXPAND_SZ, (text + "\0").encode("utf-16-le"))


def multi_sz(*items):
    return (REG_MULTI_SZ, ("\0".join(items) + "\0\0").encode("utf-16-le"))


def dword(n):
    return (REG_DWORD, struct.pack("<I", n & 0xFFFFFFFF))


def binary(data):
    return (REG_BINARY, data)


def raw(type_, data):
    """A value whose type field carries something else (SAM Names keys store the RID)."""
    return (type_, data)


def write_hive(path, hive_name, tree):
    """tree: {"Key\\Sub": {"ValueName": (type, bytes)}}; parents are made as needed."""
    with open(path, "wb") as f:
        f.write(empty_hive(hive_name))
    h = hivex.Hivex(path, write=True)
    for key_path in sorted(tree):
        node = h.root()
        for part in key_path.split("\\"):
            child = h.node_get_child(node, part)
            node = child if child is not None else h.node_add_child(node, part)
        values = [
            {"key": name, "t": t, "value": data}
            for name, (t, data) in sorted(tree[key_path].items())
        ]
        if values:
            h.node_set_values(node, values)
    h.commit(path)


# ---------------------------------------------------------------- hive contents

CS = "ControlSet001"
IF_DHCP = "{6BD3A2B4-3C1E-4F7A-9D55-2A8E41C0B7D1}"
IF_STATIC = "{9E0C5F12-7A44-4B0D-8E3F-11D2C6A4F905}"
TASK_ID = "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}"


def _svc(image_path, start, type_, object_name, display_name, extra=None):
    values = {
        "ImagePath": expand_sz(image_path),
        "Start": dword(start),
        "Type": dword(type_),
        "ErrorControl": dword(1),
        "ObjectName": sz(object_name),
        "DisplayName": sz(display_name),
    }
    values.update(extra or {})
    return values


def system_tree(appcompatcache):
    # SYSTEMTIME {year, month, dayOfWeek, day, hour, minute, second, ms}: first Sunday of
    # November / second Sunday of March at 02:00, as Windows stores US rules.
    std_start = struct.pack("<8H", 0, 11, 0, 1, 2, 0, 0, 0)
    dst_start = struct.pack("<8H", 0, 3, 0, 2, 2, 0, 0, 0)
    svc = CS + "\\Services\\"
    return {
        "Select": {
            "Current": dword(1),
            "Default": dword(1),
            "Failed": dword(0),
            "LastKnownGood": dword(1),
        },
        CS + "\\Control\\ComputerName\\ComputerName": {"ComputerName": sz("WIN10-APTSIM")},
        CS + "\\Control\\TimeZoneInformation": {
            "TimeZoneKeyName": sz("Pacific Standard Time"),
            "Bias": dword(480),
            "ActiveTimeBias": dword(480),
            "StandardBias": dword(0),
            "DaylightBias": dword(-60),
            "StandardName": sz("@tzres.dll,-212"),
            "DaylightName": sz("@tzres.dll,-211"),
            "StandardStart": binary(std_start),
            "DaylightStart": binary(dst_start),
            "DynamicDaylightTimeDisabled": dword(0),
        },
        CS + "\\Control\\Session Manager\\AppCompatCache": {
            "AppCompatCache": binary(appcompatcache),
        },
        svc + "EventLog": _svc(
            r"%SystemRoot%\System32\svchost.exe -k LocalServiceNetworkRestricted -p",
            2, 0x20, r"NT AUTHORITY\LocalService", "@%SystemRoot%\\system32\\wevtsvc.dll,-200",
        ),
        svc + "Schedule": _svc(
            r"%systemroot%\system32\svchost.exe -k netsvcs -p",
            2, 0x20, "LocalSystem", "@%SystemRoot%\\system32\\schedsvc.dll,-100",
        ),
        svc + "W32Time": _svc(
            r"%SystemRoot%\system32\svchost.exe -k LocalService",
            3, 0x20, r"NT AUTHORITY\LocalService", "@%SystemRoot%\\system32\\w32time.dll,-200",
        ),
        svc + "Tcpip": _svc(
            r"System32\drivers\tcpip.sys", 0, 0x1, "", "TCP/IP Protocol Driver",
        ),
        svc + "PSEXESVC": _svc(
            r"%SystemRoot%\PSEXESVC.exe", 3, 0x10, "LocalSystem", "PSEXESVC",
        ),
        svc + "Tcpip\\Parameters": {
            "Hostname": sz("WIN10-APTSIM"),
            "Domain": sz(""),
        },
        svc + "Tcpip\\Parameters\\Interfaces\\" + IF_DHCP: {
            "EnableDHCP": dword(1),
            "DhcpIPAddress": sz("10.0.0.21"),
            "DhcpSubnetMask": sz("255.255.255.0"),
            "DhcpServer": sz("10.0.0.1"),
            "DhcpDefaultGateway": multi_sz("10.0.0.1"),
            "IPAddress": multi_sz(""),
        },
        svc + "Tcpip\\Parameters\\Interfaces\\" + IF_STATIC: {
            "EnableDHCP": dword(0),
            "IPAddress": multi_sz("192.168.56.10"),
            "SubnetMask": multi_sz("255.255.255.0"),
            "DefaultGateway": multi_sz(""),
        },
    }


def software_tree():
    cv = "Microsoft\\Windows NT\\CurrentVersion"
    tc = cv + "\\Schedule\\TaskCache"
    created = filetime(60 * 24)  # 2022-03-11 21:00 UTC
    dynamic_info = struct.pack("<IQQII", 3, created, 0, 0, 0)
    return {
        cv: {
            "ProductName": sz("Windows 10 Pro"),
            "EditionID": sz("Professional"),
            "CurrentBuild": sz("19045"),
            "CurrentBuildNumber": sz("19045"),
            "DisplayVersion": sz("22H2"),
            "ReleaseId": sz("2009"),
            "CurrentVersion": sz("6.3"),
            "CurrentMajorVersionNumber": dword(10),
            "CurrentMinorVersionNumber": dword(0),
            "UBR": dword(1586),
            # 2022-03-01 08:00:00 UTC as seconds since 1970.
            "InstallDate": dword(1646121600),
            "RegisteredOwner": sz("analyst"),
            "SystemRoot": sz(r"C:\Windows"),
        },
        tc + "\\Tree\\At1": {
            "Id": sz(TASK_ID),
            "Index": dword(3),
        },
        tc + "\\Tasks\\" + TASK_ID: {
            "Path": sz("\\At1"),
            "URI": sz("\\At1"),
            "Author": sz("WIN10-APTSIM\\analyst"),
            "Date": sz("2022-03-11T13:00:00"),
            "Schema": dword(0x10002),
            "DynamicInfo": binary(dynamic_info),
        },
        tc + "\\Plain\\" + TASK_ID: {},
    }


def sam_tree():
    users = "SAM\\Domains\\Account\\Users"
    # Placeholders: real F/V values are 80 bytes / variable; only the key layout and
    # the RID-in-value-type trick of Names\<user> are modelled.
    f_value = bytes(80)
    return {
        "SAM\\Domains\\Account": {"F": binary(bytes(16))},
        users + "\\000001F4": {"F": binary(f_value), "V": binary(b"toolmark placeholder V")},
        users + "\\Names\\Administrator": {"": raw(0x1F4, b"")},
    }


def rot13(text):
    out = []
    for c in text:
        if "a" <= c <= "z":
            out.append(chr((ord(c) - 97 + 13) % 26 + 97))
        elif "A" <= c <= "Z":
            out.append(chr((ord(c) - 65 + 13) % 26 + 65))
        else:
            out.append(c)
    return "".join(out)


def userassist_entry(run_count, focus_count, focus_ms, last_run):
    """Windows 7+ UserAssist data: 72 bytes."""
    return (
        struct.pack("<IIII", 0, run_count, focus_count, focus_ms)
        + struct.pack("<10f", *([-1.0] * 10))
        + struct.pack("<IQI", 0xFFFFFFFF, last_run, 0)
    )


# Executable paths (clear text) and their UserAssist data; listed in README too.
USERASSIST = [
    ("C:\\Tools\\PsExec.exe", 3, 2, 4000, filetime(60 * 24 + 30)),
    ("{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\cmd.exe", 7, 5, 93000, filetime(60 * 24 + 45)),
]


def ntuser_tree():
    ua = (
        "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\"
        "{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count"
    )
    return {
        "Software\\Sysinternals\\PsExec": {"EulaAccepted": dword(1)},
        ua: {rot13(name): binary(userassist_entry(*rest)) for name, *rest in USERASSIST},
        "Software\\Microsoft\\Terminal Server Client\\Servers\\10.0.0.5": {
            "UsernameHint": sz("APTSIM\\administrator"),
        },
        "Software\\Microsoft\\Terminal Server Client\\Default": {"MRU0": sz("10.0.0.5")},
    }


def sha1_text(hex40):
    return "0000" + hex40


def amcache_renamed_tree():
    """An Amcache.hve holding one Windows 10 InventoryApplicationFile entry: PsExec
    copied to C:\\Users\\x\\svc32.exe. The PE fields are those Windows records for
    PsExec (OriginalFileName is `psexec.c` in PsExec's version resource); the hash,
    size, USN and dates are made up. The hive root is named ROOT, not Amcache's GUID:
    readers look below it for `Root`."""
    key = "Root\\InventoryApplicationFile\\svc32.exe|4a1b2c3d4e5f6071"
    return {
        key: {
            "ProgramId": sz("0000f519feec486de87ed73cb92d3cac802400000000"),
            "FileId": sz(sha1_text("0123456789abcdef0123456789abcdef01234567")),
            "LowerCaseLongPath": sz("c:\\users\\x\\svc32.exe"),
            "LongPathHash": sz("svc32.exe|4a1b2c3d4e5f6071"),
            "Name": sz("svc32.exe"),
            "OriginalFileName": sz("psexec.c"),
            "Publisher": sz("sysinternals - www.sysinternals.com"),
            "Version": sz("2.34"),
            "BinFileVersion": sz("2.34.0.0"),
            "BinaryType": sz("pe32_i386"),
            "ProductName": sz("sysinternals psexec"),
            "ProductVersion": sz("2.34"),
            "LinkDate": sz("04/11/2021 17:19:32"),
            "BinProductVersion": sz("2.34.0.0"),
            "Size": (REG_QWORD, struct.pack("<Q", 716176)),
            "Language": dword(1033),
            "Usn": (REG_QWORD, struct.pack("<Q", 0x0C812340)),
        },
    }


def main():
    appcompat_path, out_dir = sys.argv[1], sys.argv[2]
    with open(appcompat_path, "rb") as f:
        appcompatcache = f.read()
    write_hive(f"{out_dir}/SYSTEM", "SYSTEM", system_tree(appcompatcache))
    write_hive(f"{out_dir}/SOFTWARE", "SOFTWARE", software_tree())
    write_hive(f"{out_dir}/SAM", "SAM", sam_tree())
    write_hive(f"{out_dir}/NTUSER.DAT", "ntuser.dat", ntuser_tree())
    write_hive(f"{out_dir}/Amcache-renamed.hve", "Amcache", amcache_renamed_tree())


if __name__ == "__main__":
    main()
