#!/usr/bin/env python3
"""tests/baseidl/abi_subset.py REF_DIR OUR_DIR NAME [ALLOWED_MISSING_REGEX]

abi_compare.py (../shared/tools) for a base IDL header we wrote ourselves:
every probe of the reference header (sizeof of each struct/union typedef,
offset of each vtable slot) must give the same value in ours, except the
probes whose name matches ALLOWED_MISSING_REGEX, which ours may lack (the
wire types of marshalling we leave out), but then must lack entirely; with
'@absent' instead of a regex, the probes of every type or interface our
header does not name at all (a base IDL file that has only part of
Windows' is compared on that part).
Prints one line per differing or missing probe and a last line
'NAME: N/M probes equal, K left out'; exit 1 on any difference."""
import os, re, sys, tempfile

shared = os.environ.get("SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "tools"))
import abi_compare  # noqa: E402

ref_dir, our_dir, name = sys.argv[1:4]
class Absent:
    """the probe's type or interface is not named in our header"""
    def __init__(self, text):
        self.text = text

    def search(self, label):
        name = label.split()[-1] if label.startswith("sizeof ") else label.split(".")[0]
        name = re.sub(r"Vtbl$", "", name)
        return not re.search(r"\b%s\b" % re.escape(name), self.text)


if len(sys.argv) > 4 and sys.argv[4] == "@absent":
    allowed = Absent(open(os.path.join(our_dir, name + ".h"), errors="replace").read())
else:
    allowed = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
with tempfile.TemporaryDirectory() as work:
    ref_header = os.path.join(ref_dir, name + ".h")
    probes = abi_compare.probes_for(ref_header)
    # abi_compare.py also takes a parameter that is a function pointer
    # ("(STDMETHODCALLTYPE *pfnContinue)") for a slot: keep the slots, which end their line
    text = open(ref_header, errors="replace").read()
    slots = set()
    for m in re.finditer(r"^typedef struct (\w+Vtbl) \{(.*?)^\} \1;", text, re.S | re.M):
        slots |= {f"{m.group(1)}.{n}" for n in re.findall(r"\(STDMETHODCALLTYPE \*(\w+)\)\($", m.group(2), re.M)}
    probes = [p for p in probes if "Vtbl." not in p[0] or p[0] in slots]
    ref, err = abi_compare.measure(ref_dir, name, probes, work, drop_failing=True)
    if ref is None:
        sys.exit(f"{name}: the reference header does not compile: {err}")
    live = [probes[i] for i in sorted(ref)]
    ref_vals = [ref[i] for i in sorted(ref)]
    ours, err = abi_compare.measure(our_dir, name, live, work, drop_failing=True)
    if ours is None:
        sys.exit(f"{name}: ours does not compile: {err}")
bad = 0
left_out = 0
for j, (label, _) in enumerate(live):
    if j not in ours:
        if allowed and allowed.search(label):
            left_out += 1
            continue
        print(f"missing in ours: {label}")
        bad += 1
    elif ours[j] != ref_vals[j]:
        print(f"differs: {label}: reference {ref_vals[j]}, ours {ours[j]}")
        bad += 1
    elif allowed and allowed.search(label):
        print(f"present although left out on purpose: {label}")
        bad += 1
print(f"{name}: {len(live) - bad - left_out}/{len(live)} probes equal, {left_out} left out")
sys.exit(1 if bad else 0)
