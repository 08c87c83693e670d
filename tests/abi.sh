#!/usr/bin/env bash
# tests/abi.sh OUTDIR - headers of every eligible corpus file from widl 11.12
# (OUTDIR/widl) and from amidl (OUTDIR/amidl), then:
#   abi   ../shared/tools/abi_compare.py: struct sizes and vtable offsets
#   cc    amidl's headers under x86_64-w64-mingw32-gcc -fsyntax-only, C and C++
# Prints one line per failure and a summary line per check; exit 1 on failure.
set -u
export LC_ALL=C
OUT=$1
SHARED=${SHARED:-../shared}
AMIDL=${AMIDL:-bin/amidl}
C=$SHARED/corpus
W=$SHARED/tools/widl
mkdir -p "$OUT/widl" "$OUT/amidl"
skip=" axcore.idl axextend.idl dyngraph.idl mulres.idl xmldom.idl xmldso.idl wincrypt.idl "
names=()
for f in "$C"/mingw-w64/*.idl; do
    b=$(basename "$f")
    [[ "$skip" == *" $b "* ]] && continue
    [[ "$b" == windows.* ]] && continue        # WinRT: not generated yet
    grep -q '^ *namespace ' "$f" && continue
    names+=("${b%.idl}")
done
printf '%s\n' "${names[@]}" | xargs -P 2 -I{} sh -c '
    "$0" -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" -h -H "$2/widl/{}.h" "$1/mingw-w64/{}.idl" 2>/dev/null
    "$3" -w --no-iid --no-glue -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" --outdir "$2/amidl" "$1/mingw-w64/{}.idl" || echo "amidl failed: {}"
' "$W" "$C" "$OUT" "$AMIDL"
ABI_INCLUDE="$C/mingw-w64-include" python3 "$SHARED/tools/abi_compare.py" "$OUT/widl" "$OUT/amidl" "${names[@]}" > "$OUT/abi.txt"
abi_rc=$?
grep -v ': identical' "$OUT/abi.txt"
# compile checks: C and C++, each header alone
printf '%s\n' "${names[@]}" | xargs -P 2 -I{} sh -c '
    for lang in c c++; do
        printf "#include \"{}.h\"\n" | x86_64-w64-mingw32-gcc -x $lang -fsyntax-only -I "$1/amidl" -I "$0/mingw-w64-include" - > "$1/cc.{}.$lang.log" 2>&1 || echo "cc-fail {} $lang"
    done' "$C" "$OUT" > "$OUT/cc.txt"
ncc=$(wc -l < "$OUT/cc.txt")
cat "$OUT/cc.txt"
echo "cc: $(( ${#names[@]} * 2 - ncc ))/$(( ${#names[@]} * 2 )) header compiles passed"
[ $abi_rc -eq 0 ] && [ "$ncc" -eq 0 ]
