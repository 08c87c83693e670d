#!/usr/bin/env python3
"""tests/baseidl/layout_linux.py OUR_DIR NAME MINGW_INCLUDE

For a base IDL header that mingw-w64's own system headers include (so that
ours cannot stand in for it there, as abi_subset.py needs): the probes of
abi_compare.py taken from OUR header (sizeof of each struct/union typedef,
offset of each vtable slot), measured once with x86_64-w64-mingw32-gcc
against mingw-w64's NAME.h and once with Linux gcc (x86_64, LP64) against
ours and runtime/include. The Windows types keep their sizes on Linux
(amidl_types.h), so every probe both sides know must agree. Prints the
differences and 'NAME: N/M probes equal, K not in mingw-w64's'; exit 1 on
a difference."""
import os, sys, tempfile

shared = os.environ.get("SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "tools"))
import abi_compare  # noqa: E402

our_dir, name, mingw_inc = sys.argv[1:4]
probes = abi_compare.probes_for(os.path.join(our_dir, name + ".h"))
with tempfile.TemporaryDirectory() as work:
    abi_compare.CC = "x86_64-w64-mingw32-gcc"
    os.environ["ABI_INCLUDE"] = ""
    ref, err = abi_compare.measure(mingw_inc, name, probes, work, drop_failing=True)
    if ref is None:
        sys.exit(f"{name}: mingw-w64's header does not compile with the probes: {err}")
    abi_compare.CC = "gcc"
    os.environ["ABI_INCLUDE"] = "runtime/include"
    ours, err = abi_compare.measure(our_dir, name, probes, work, drop_failing=False)
    if ours is None:
        sys.exit(f"{name}: ours does not compile with its own probes on Linux: {err}")
bad = 0
for i in sorted(ref):
    if ours.get(i) != ref[i]:
        print(f"differs: {probes[i][0]}: mingw-w64 {ref[i]}, ours on Linux {ours.get(i)}")
        bad += 1
print(f"{name}: {len(ref) - bad}/{len(ref)} probes equal, {len(probes) - len(ref)} not in mingw-w64's")
sys.exit(1 if bad else 0)
