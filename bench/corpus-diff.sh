#!/usr/bin/env bash
# bench/corpus-diff.sh OLD NEW - the same behaviour from two amidl binaries:
# on every corpus file the --check exit status, the written outputs (byte
# for byte) and the diagnostics; on tests/errors, tests/glue-errors and
# tests/golden the full diagnostics (source lines and carets included).
# Run from the project root. Prints the differences; exit 1 if any.
set -u
old=$(readlink -f "$1"); new=$(readlink -f "$2")
SHARED=${SHARED:-../shared}
corpus=$(readlink -f "$SHARED/corpus")
inc=(-DBOOL=WINBOOL -I "$corpus/mingw-w64" -I "$corpus/mingw-w64-include")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad=0 acc=0 rej=0
for f in "$corpus"/mingw-w64/*.idl tests/errors/*.idl tests/glue-errors/*.idl tests/golden/*.idl; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .idl)
    for v in old new; do
        bin=${!v}
        mkdir -p "$tmp/$v/$n"
        timeout 60 "$bin" --check "${inc[@]}" "$f" >"$tmp/$v/$n.check" 2>&1; echo "rc $?" >>"$tmp/$v/$n.check"
        (cd "$tmp/$v/$n" && timeout 60 "$bin" "${inc[@]}" "$(readlink -f "$OLDPWD/$f")" >"../$n.build" 2>&1; echo "rc $?" >>"../$n.build")
    done
    if ! diff -r "$tmp/old/$n" "$tmp/new/$n" >"$tmp/d" || ! cmp -s "$tmp/old/$n.check" "$tmp/new/$n.check" ||
       ! cmp -s "$tmp/old/$n.build" "$tmp/new/$n.build"; then
        echo "DIFF $f"; head -20 "$tmp/d"
        diff "$tmp/old/$n.check" "$tmp/new/$n.check" | head -10
        diff "$tmp/old/$n.build" "$tmp/new/$n.build" | head -10
        bad=1
    fi
    case $f in "$corpus"/*) if tail -1 "$tmp/new/$n.check" | grep -q "rc 0"; then acc=$((acc+1)); else rej=$((rej+1)); fi ;; esac
    rm -rf "$tmp/old/$n" "$tmp/new/$n"
done
echo "corpus: $acc accepted, $rej rejected by the new binary; $([ $bad = 0 ] && echo 'no differences' || echo 'DIFFERENCES')"
exit $bad
