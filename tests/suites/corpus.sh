#!/usr/bin/env bash
# tier: slow
# Every file of the mingw-w64 corpus (../shared/corpus) through
# amidl --check; the ones the reference widl 11.12 rejects too must fail
# with a located error. The glue of the corpus files with [async_uuid].
. tests/lib.sh

if [ ! -d "$CORPUS/mingw-w64" ]; then
    fail "corpus" "not found at $CORPUS (SHARED=$SHARED)"
    suite_end; exit
fi
# the files widl rejects too (fragments, wincrypt.idl)
expected_bad=" axcore.idl axextend.idl dyngraph.idl mulres.idl xmldom.idl xmldso.idl wincrypt.idl "
mkdir -p "$TMP/c"
ls "$CORPUS"/mingw-w64/*.idl | xargs -P 2 -I{} sh -c '
    f={}; b=$(basename "$f")
    timeout $((60 * $3)) "$0" --check -w -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" "$f" > "$2/$b.out" 2>&1
    echo $? > "$2/$b.rc"' "$AMIDL" "$CORPUS" "$TMP/c" "$AMIDL_TEST_TIMEOUT_MULTIPLIER"
for f in "$CORPUS"/mingw-w64/*.idl; do
    b=$(basename "$f")
    rc=$(cat "$TMP/c/$b.rc" 2>/dev/null || echo 255)
    if [[ "$expected_bad" == *" $b "* ]]; then
        if [ "$rc" -eq 1 ] && grep -Eq '^[^ ]+:[0-9]+:[0-9]+: error: ' "$TMP/c/$b.out"; then ok "corpus $b (rejected, as by widl)"
        else fail "corpus $b" "widl rejects it; amidl must fail with a located error ($(status_text "$rc"))" "$TMP/c/$b.out"; fi
    elif [ "$rc" -eq 0 ]; then
        ok "corpus $b"
    else
        fail "corpus $b" "$(status_text "$rc")" "$TMP/c/$b.out"
    fi
done

# the corpus files with [async_uuid] (objidl's IAdviseSink passes FORMATETC with a
# conformant DVTARGETDEVICE and STGMEDIUM, a union of handles, strings and interfaces)
for n in objidlbase objidl activdbg napsystemhealthagent; do
    rm -rf "$TMP/glue"; mkdir -p "$TMP/glue"
    check "glue of the corpus file $n.idl is generated" bash -c "'$AMIDL' -w -DBOOL=WINBOOL -I '$CORPUS/mingw-w64' \
        -I '$CORPUS/mingw-w64-include' --outdir '$TMP/glue' '$CORPUS/mingw-w64/$n.idl' && test -s '$TMP/glue/${n}_async.c'"
done
suite_end
