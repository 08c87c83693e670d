#!/usr/bin/env python3
"""tests/sret/signatures.py REF_HEADER INCDIR NAME: the type of every method, as C++ mangles it.

For every C vtable member (typedef struct XVtbl) of REF_HEADER, the type of the
member (the C view), and of &X::member (the C++ view), are written into one
C++ file as parameters of probe functions, compiled against INCDIR/NAME.h with
$CXX (default x86_64-w64-mingw32-g++); the mangled names of the probes spell
the return type, the parameter types and the class of each method. Prints one
line per probe, "VIEW X.member MANGLED", sorted. Two headers whose lines match
declare the same calling convention for every method (abi_compare.py compares
offsets and sizes only). Exit 1 when the probe file does not compile."""
import os, re, shlex, subprocess, sys, tempfile

ref, incdir, name = sys.argv[1:4]
cxx = shlex.split(os.environ.get("CXX_PROBE", "x86_64-w64-mingw32-g++"))
text = open(ref, errors="replace").read()
probes = []
for m in re.finditer(r"^typedef struct (\w+)Vtbl \{(.*?)^\} \1Vtbl;", text, re.S | re.M):
    iface, body = m.group(1), m.group(2)
    for mem in re.findall(r"\(STDMETHODCALLTYPE \*(\w+)\)", body):
        probes.append((iface, mem))
extra = [f"-I{d}" for d in os.environ.get("PROBE_INCLUDE", "").split(":") if d]
HEAD = 3   # lines of probe.cc before the first probe


def compile_probes(view, keep):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.cc")
        with open(src, "w") as f:
            f.write("#define CINTERFACE\n" if view == "c" else "/* the C++ view */\n")
            f.write(f'#define COBJMACROS\n#include "{name}.h"\n')
            for i in keep:
                iface, mem = probes[i]
                t = f"decltype((({iface}Vtbl *)0)->{mem})" if view == "c" else f"decltype(&{iface}::{mem})"
                f.write(f"void probe_{view}_{iface}_{mem}({t}) {{}}\n")
        return subprocess.run([*cxx, "-std=c++11", "-w", "-S", "-o", "-", "-I", incdir, *extra, src],
                              capture_output=True, text=True)


out = []
for view in ("c", "cxx"):
    keep = list(range(len(probes)))
    overloaded = set()
    for _ in range(3):
        r = compile_probes(view, keep)
        if r.returncode == 0:
            break
        # in the C++ view a method may be overloaded (mingw-w64 defines
        # WIDL_EXPLICIT_AGGREGATE_RETURNS for g++; QueryInterface has a
        # template): named as such, and left out
        bad = {keep[int(l) - HEAD - 1] for l in re.findall(r"probe\.cc:(\d+):\d+: error: .decltype. cannot resolve "
                                                          r"address of overloaded function", r.stderr)}
        if view != "cxx" or not bad:
            sys.stderr.write(r.stderr[:4000])
            sys.exit(1)
        overloaded |= bad
        keep = [i for i in keep if i not in bad]
    else:
        sys.stderr.write(r.stderr[:4000])
        sys.exit(1)
    for i, (iface, mem) in enumerate(probes):
        if i in overloaded:
            out.append(f"{view} {iface}.{mem} overloaded")
            continue
        found = re.search(r"^(_Z\d+probe_%s_%s_%s\S*):" % (view, iface, mem), r.stdout, re.M)
        out.append(f"{view} {iface}.{mem} {found.group(1) if found else 'MISSING'}")
print("\n".join(sorted(out)))
