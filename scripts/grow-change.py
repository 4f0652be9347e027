#!/usr/bin/env python3
"""Grows a change to N files, for measuring how evaluation scales with files.

    scripts/grow-change.py IN.json N OUT.json

The first files are the change's own; each further file copies file i mod n (n: the
change's files) with its last directory and its file name's stem suffixed by the copy's
number (`a/b/c.rs` -> `a/b-2/c-2.rs`; `c.rs` -> `c-2.rs`). Top-level directories,
extensions, statuses and line counts are kept, so the same globs match the copies, while
the distinct directories and names grow with the files (at the peers' L: 11,056
directories of 20,000 paths, 28,055 of 50,000), as in a larger repository rather than
the same files listed again. Used for the 20,000 -> 50,000 figures in
docs/benchmarks.md.
"""
import json
import sys


def renamed(path, copy):
    head, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    name = f"{stem}-{copy}.{ext}" if dot and stem else f"{name}-{copy}"
    if not head:
        return name
    up, _, last = head.rpartition("/")
    return f"{up}/{last}-{copy}/{name}" if up else f"{last}-{copy}/{name}"


def main():
    source, count, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(source) as f:
        change = json.load(f)
    files = change["files"]
    n = len(files)
    grown = [dict(f) for f in files[:count]]
    for i in range(n, count):
        copy = dict(files[i % n])
        copy["path"] = renamed(copy["path"], i // n + 1)
        if copy.get("previous_path"):
            copy["previous_path"] = renamed(copy["previous_path"], i // n + 1)
        grown.append(copy)
    change["files"] = grown
    with open(target, "w") as f:
        json.dump(change, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
