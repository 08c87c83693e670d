#!/usr/bin/env bash
# tests/abi.sh OUTDIR - amidl's headers against the reference widl 11.12 on
# every corpus file that widl accepts (COM and WinRT: namespaces, runtimeclasses,
# parameterized-interface instances; widl writes WinRT headers alike with or
# without --winrt, since a namespace turns its WinRT mode on):
#   abi  ../shared/tools/abi_compare.py: sizeof of every struct/union typedef
#        and the offset of every vtable slot, by name, under mingw-w64 gcc
#   cc   x86_64-w64-mingw32-gcc -fsyntax-only, as C and as C++, of each header
#        alone; required wherever widl's own header compiles alone
# Prints "ok: ..." / "FAIL: ..." lines (one per file and check) for
# tests/run.sh to count, and the abi_compare summary.
set -u
export LC_ALL=C
OUT=$1
SHARED=${SHARED:-../shared}
AMIDL=${AMIDL:-bin/amidl}
C=$SHARED/corpus
W=$SHARED/tools/widl
rm -rf "$OUT"; mkdir -p "$OUT/widl" "$OUT/amidl"
skip=" axcore.idl axextend.idl dyngraph.idl mulres.idl xmldom.idl xmldso.idl wincrypt.idl "
names=()
for f in "$C"/mingw-w64/*.idl; do
    b=$(basename "$f")
    [[ "$skip" == *" $b "* ]] && continue
    names+=("${b%.idl}")
done
# every header either compiler can produce, so that #include <x.h> of an
# import finds the same compiler's x.h
ls "$C"/mingw-w64/*.idl | sed 's|.*/||; s|\.idl$||' | xargs -P 2 -I{} sh -c '
    "$0" -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" -h -H "$2/widl/{}.h" "$1/mingw-w64/{}.idl" >/dev/null 2>&1
    "$3" -w --no-iid --no-glue -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" --outdir "$2/amidl" "$1/mingw-w64/{}.idl" >/dev/null 2>&1
    true' "$W" "$C" "$OUT" "$AMIDL"
for n in "${names[@]}"; do
    [ -s "$OUT/amidl/$n.h" ] || echo "FAIL: amidl wrote no header for $n.idl"
done
ABI_JOBS=2 ABI_INCLUDE="$C/mingw-w64-include" python3 "$SHARED/tools/abi_compare.py" "$OUT/widl" "$OUT/amidl" "${names[@]}" > "$OUT/abi.txt"
while IFS= read -r line; do
    case "$line" in
        abi:*) echo "$line" ;;
        *": identical"*|*": skipped"*) echo "ok: abi $line" ;;
        *) echo "FAIL: abi $line" ;;
    esac
done < "$OUT/abi.txt"
printf '%s\n' "${names[@]}" | xargs -P 2 -I{} sh -c '
    for lang in c c++; do
        if printf "#include \"{}.h\"\n" | x86_64-w64-mingw32-gcc -x $lang -fsyntax-only -I "$1/widl" -I "$0/mingw-w64-include" - >/dev/null 2>&1; then
            if printf "#include \"{}.h\"\n" | x86_64-w64-mingw32-gcc -x $lang -fsyntax-only -I "$1/amidl" -I "$0/mingw-w64-include" - > "$1/cc.{}.$lang.log" 2>&1
            then echo "ok: cc {}.h ($lang)"
            else echo "FAIL: cc {}.h ($lang): $(grep -m1 error "$1/cc.{}.$lang.log")"; fi
        else
            echo "ok: cc {}.h ($lang) skipped: widl'"'"'s header does not compile alone either"
        fi
    done' "$C" "$OUT"
