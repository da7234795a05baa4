#!/usr/bin/python3
"""Write the synthetic (non-corpus) files of the test images into a staging folder.

Usage: files.py CORPUS_J OUT_DIR

Everything here is a pure function of fixed seeds and of the corpus change journal, so
every run writes the same bytes. Layout of OUT_DIR (paths as they go into the images):

  win10/Windows/System32/Tasks/At1                    task XML, UTF-16LE with BOM
  win10/Users/analyst/Documents/compressed/*          compressible text (NTFS-compressed dir)
  win10/Users/analyst/Downloads/tool.exe              small fake PE
  win10/Users/analyst/Downloads/tool.exe:Zone.Identifier  (stored as tool.exe.Zone.Identifier)
  win10/UsnJrnl.J                                     corpus $J behind its sparse head
  win10/UsnJrnl.Max                                   the $Max stream matching it
  win10/usn_head                                      the sparse head length in bytes
  mbr-fat/*, mbr-ntfs/*                               files of the MBR disk's two volumes
"""

import os
import struct
import sys

# 2022-03-01 08:00:00 UTC (the SOFTWARE hive's InstallDate) as a FILETIME: the journal id.
USN_JOURNAL_ID = 132905952000000000


class Lcg:
    """A fixed 64-bit LCG (Knuth MMIX constants), so output never depends on Python's
    random module version."""

    def __init__(self, seed):
        self.state = seed

    def next(self, bound):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (self.state >> 33) % bound


WORDS = (
    "lateral movement psexec service share admin wmic schtasks at logon token "
    "credential remote registry event prefetch journal volume cluster sector hive "
    "analyst incident host network domain controller audit process command"
).split()


def text_lines(seed, count, width):
    rng = Lcg(seed)
    lines = []
    for n in range(count):
        words = [WORDS[rng.next(len(WORDS))] for _ in range(width)]
        lines.append(f"{n:06d} " + " ".join(words))
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def csv_rows(seed, count):
    rng = Lcg(seed)
    rows = ["host,ip,owner,asset_tag"]
    for n in range(count):
        rows.append(
            f"WS-{n:04d},10.0.{rng.next(255)}.{rng.next(254) + 1},"
            f"{WORDS[rng.next(len(WORDS))]},AT{rng.next(10**8):08d}"
        )
    return ("\r\n".join(rows) + "\r\n").encode("ascii")


def fake_pe(size):
    """An 'MZ' header, the classic DOS stub text and deterministic filler: enough for
    anything that sniffs file types, not a runnable program."""
    head = b"MZ" + bytes(58) + struct.pack("<I", 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$"
    body = head + bytes(0x40 - len(head) + 0x0E) + stub
    body = body.ljust(0x80, b"\0") + b"PE\0\0"
    rng = Lcg(0x7001)
    filler = bytes(rng.next(256) for _ in range(size - len(body)))
    return body + filler


TASK_XML = """<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>WIN10-APTSIM\\analyst</Author>
    <Date>2022-03-11T13:00:00</Date>
    <URI>\\At1</URI>
  </RegistrationInfo>
  <Triggers>
    <TimeTrigger>
      <StartBoundary>2022-03-11T13:05:00</StartBoundary>
      <Enabled>true</Enabled>
    </TimeTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>false</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>true</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>P3D</ExecutionTimeLimit>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>cmd.exe</Command>
      <Arguments>/c whoami /all &gt; C:\\Windows\\Temp\\at1.txt 2&gt;&amp;1</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def task_xml():
    return b"\xff\xfe" + TASK_XML.replace("\n", "\r\n").encode("utf-16-le")


def write(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def usn_journal(corpus_j, out_dir):
    """The corpus $J is an extract with its sparse head cut off: its first record's USN
    (= its offset in the real stream) says how long that head was. Put the head back as
    a hole so record offsets equal USNs again, as on the live volume."""
    with open(corpus_j, "rb") as f:
        first = f.read(32)
    if len(first) < 32 or struct.unpack_from("<H", first, 4)[0] != 2:
        sys.exit(f"files.py: {corpus_j} does not start with a USN_RECORD_V2")
    head = struct.unpack_from("<q", first, 24)[0]
    if head < 0 or head % 4096:
        sys.exit(f"files.py: first USN {head} of {corpus_j} is not cluster aligned")
    dst = os.path.join(out_dir, "win10", "UsnJrnl.J")
    with open(dst, "wb") as out, open(corpus_j, "rb") as src:
        out.truncate(head)
        out.seek(head)
        while chunk := src.read(1 << 20):
            out.write(chunk)
    # $Max: maximum size, allocation delta, journal id, lowest valid USN.
    write(out_dir, "win10/UsnJrnl.Max", struct.pack("<QQQq", 32 << 20, 8 << 20, USN_JOURNAL_ID, head))
    write(out_dir, "win10/usn_head", f"{head}\n".encode())


def main():
    corpus_j, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "win10"), exist_ok=True)
    usn_journal(corpus_j, out)

    w = os.path.join(out, "win10")
    write(w, "Windows/System32/Tasks/At1", task_xml())
    comp = "Users/analyst/Documents/compressed/"
    write(w, comp + "notes.txt", text_lines(1, 300, 8))  # ~20 KB: one compression unit
    write(w, comp + "access.log", text_lines(2, 2400, 9))  # ~180 KB: several units
    write(w, comp + "inventory.csv", csv_rows(3, 1200))  # ~40 KB
    write(w, "Users/analyst/Downloads/tool.exe", fake_pe(6144))
    write(w, "Users/analyst/Downloads/tool.exe.Zone.Identifier", b"[ZoneTransfer]\r\nZoneId=3\r\n")

    write(out, "mbr-fat/README.TXT", b"toolmark test disk: primary FAT16 partition\r\n")
    write(out, "mbr-fat/DATA/HELLO.TXT", text_lines(4, 20, 6))
    write(out, "mbr-ntfs/Cases/notes.txt", text_lines(5, 200, 7))
    write(out, "mbr-ntfs/Cases/Ünïcödé – report.txt", "Grüße aus dem logischen Laufwerk\r\n".encode("utf-8"))


if __name__ == "__main__":
    main()
