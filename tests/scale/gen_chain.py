#!/usr/bin/env python3
"""tests/scale/gen_chain.py - IDL files of long interface base chains (#13).

    gen_chain.py OUT.idl N forward|reverse [--dispatch] [--import FILE]

forward: I0 : IUnknown, I1 : I0, ... (each base defined before its user,
         as widl requires); reverse: I0 : I1, I1 : I2, ..., I(N-1) : IUnknown
         (each base defined after its user: MIDL accepts it, amidl checks
         the bases first). Every interface has two methods, M<i>() of its
         own and Same(), whose name every ancestor's vtable already holds
         (the C vtable spells the derived one I<i>_Same). --dispatch roots
         the chain at IDispatch instead of IUnknown. --import FILE writes
         'import "FILE";' instead of the base IDL's.
The deepest interface (the one with the most ancestors) is I(N-1) in the
forward form and I0 in the reverse form; its own methods are at slots
root + 2*(N-1) and root + 2*(N-1) + 1 (root: 3 for IUnknown, 7 for
IDispatch)."""
import sys

def main():
    args = sys.argv[1:]
    dispatch = "--dispatch" in args
    imp = None
    if "--import" in args:
        k = args.index("--import")
        imp = args[k + 1]
        del args[k:k + 2]
    args = [a for a in args if a != "--dispatch"]
    out, n, form = args[0], int(args[1]), args[2]
    root = "IDispatch" if dispatch else "IUnknown"
    with open(out, "w") as f:
        f.write('import "%s";\n' % (imp or ("oaidl.idl" if dispatch else "unknwn.idl")))
        for i in range(n):
            if form == "forward":
                base = "I%d" % (i - 1) if i else root
            else:
                base = "I%d" % (i + 1) if i < n - 1 else root
            f.write("[object, uuid(5b1c7e02-3a4d-4e5f-8a6b-%012x)] interface I%d : %s\n"
                    "{\n    HRESULT M%d([in] int x);\n    HRESULT Same(void);\n}\n" % (i, i, base, i))

main()
