#!/usr/bin/env python3
"""tests/sret/signatures.py REF_HEADER INCDIR NAME: the type of every method, as C++ mangles it.

For every C vtable member (typedef struct XVtbl) of REF_HEADER, the type of the
member (the C view), and of &X::member (the C++ view), are written into one
C++ file as parameters of probe functions, compiled against INCDIR/NAME.h with
$CXX_PROBE (default x86_64-w64-mingw32-g++; "x86_64-w64-mingw32-g++ -m32" for
win32, where the calling convention is part of the type); the mangled names of
the probes spell the return type, the parameter types (and under -m32 the
calling convention) and the class of each method. Prints one
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
    # a slot ends its line ("HRESULT (STDMETHODCALLTYPE *Name)("); a parameter
    # that is a function pointer does not
    for mem in re.findall(r"\((?:STDMETHODCALLTYPE|__stdcall|__cdecl|__fastcall|__pascal) \*(\w+)\)\($", body, re.M):
        probes.append((iface, mem))
# function-pointer typedefs, structure members and functions declared with a
# calling convention (the C view only)
plain = []
for m in re.finditer(r"^typedef [^;{}()]*\((?:(?:__stdcall|__cdecl|__fastcall|__pascal) )?\*(\w+)\)\(", text, re.M):
    plain.append(("typedef", m.group(1), m.group(1)))
for m in re.finditer(r"^(?!typedef|static|#)[A-Za-z_][\w \*]*?\b(?:__stdcall|__cdecl|__fastcall|__pascal)\s+(\w+)\(", text, re.M):
    plain.append(("function", m.group(1), f"decltype(&{m.group(1)})"))
for m in re.finditer(r"^typedef struct \w* ?\{(.*?)^\} (\w+);", text, re.S | re.M):
    if m.group(2).endswith("Vtbl"):
        continue
    for mem in re.findall(r"\((?:(?:__stdcall|__cdecl|__fastcall|__pascal) )?\*(\w+)\)\(", m.group(1)):
        plain.append(("member", f"{m.group(2)}_{mem}", f"decltype((({m.group(2)} *)0)->{mem})"))
extra = [f"-I{d}" for d in os.environ.get("PROBE_INCLUDE", "").split(":") if d]
HEAD = 3   # lines of probe.cc before the first probe


def compile_probes(view, keep, with_plain=False):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.cc")
        with open(src, "w") as f:
            f.write("#define CINTERFACE\n" if view == "c" else "/* the C++ view */\n")
            f.write(f'#define COBJMACROS\n#include "{name}.h"\n')
            if with_plain:
                for kind, n, t in plain:
                    f.write(f"void probe_{kind}_{n}({t}) {{}}\n")
            for i in keep:
                iface, mem = probes[i]
                t = f"decltype((({iface}Vtbl *)0)->{mem})" if view == "c" else f"decltype(&{iface}::{mem})"
                f.write(f"void probe_{view}_{iface}_{mem}({t}) {{}}\n")
        return subprocess.run([*cxx, "-std=c++11", "-w", "-S", "-o", "-", "-I", incdir, *extra, src],
                              capture_output=True, text=True)


out = []
for view in ("c", "cxx"):
    keep = list(range(len(probes)))
    left_out = {}
    for _ in range(50):
        r = compile_probes(view, keep)
        if r.returncode == 0:
            break
        # a method overloaded in the C++ view (mingw-w64 defines
        # WIDL_EXPLICIT_AGGREGATE_RETURNS for g++; QueryInterface has a
        # template), or an interface the header's #if blocks leave out:
        # named as such, and left out
        bad = {}
        for line, msg in re.findall(r"probe\.cc:(\d+):\d+: error: (.*)", r.stderr):
            i = int(line) - HEAD - 1
            if 0 <= i < len(keep):
                bad[keep[i]] = ("overloaded" if "overloaded function" in msg else
                                "not-declared" if "not declared" in msg or "not been declared" in msg else "error")
        if not bad:
            sys.stderr.write(r.stderr[:4000])
            sys.exit(1)
        # g++ names an undeclared identifier once: all of that interface's probes go
        gone = {probes[i][0] for i, why in bad.items() if why == "not-declared"}
        bad.update({i: "not-declared" for i in keep if probes[i][0] in gone})
        left_out.update(bad)
        keep = [i for i in keep if i not in bad]
    else:
        sys.stderr.write(r.stderr[:4000])
        sys.exit(1)
    for i, (iface, mem) in enumerate(probes):
        if i in left_out:
            out.append(f"{view} {iface}.{mem} {left_out[i]}")
            continue
        found = re.search(r"^(_?_Z\d+probe_%s_%s_%s\S*):" % (view, iface, mem), r.stdout, re.M)
        out.append(f"{view} {iface}.{mem} {found.group(1) if found else 'MISSING'}")
if plain:
    r = compile_probes("c", [], with_plain=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[:4000])
        sys.exit(1)
    for kind, n, _ in plain:
        found = re.search(r"^(_?_Z\d+probe_%s_%s\S*):" % (kind, n), r.stdout, re.M)
        out.append(f"{kind} {n} {found.group(1) if found else 'MISSING'}")
print("\n".join(sorted(out)))
