"""The tune/check split of eval/labels.toml, as a function of the path alone.

Decided before any scan was run. Within each folder (the tactic or technique
directory), files are ordered by the SHA-256 of their corpus-relative path and
then alternate between the two splits, so every folder is split half/half (an
odd folder gives the extra file to the split picked by the parity of the first
byte of the folder name's SHA-256). No file name, label or result enters it.
"""

import hashlib
import posixpath


def _sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def assign_splits(paths):
    """Map each corpus-relative path (forward slashes) to 'tune' or 'check'."""
    by_folder = {}
    for p in paths:
        by_folder.setdefault(posixpath.dirname(p), []).append(p)
    out = {}
    for folder, members in by_folder.items():
        start = int(_sha(folder)[:2], 16) % 2
        for i, p in enumerate(sorted(members, key=_sha)):
            out[p] = "check" if (i + start) % 2 == 0 else "tune"
    return out
