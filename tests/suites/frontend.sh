#!/usr/bin/env bash
# tests/suites/frontend.sh - the front end decides; the emitters print.
#   - `amidl --check` and a build give the same diagnostics and exit status
#     on every tests/errors and tests/glue-errors case (the glue is lowered
#     in the semantic pass, grammar/glue.c);
#   - the cases of tests/frontend/ (what widl or MIDL accepts), each with
#     its own expectation.
BUILD=${BUILD:-build}
AMIDL=${AMIDL:-bin/amidl}
SHARED=${SHARED:-../shared}
CORPUS=$SHARED/corpus
TMP=$(mktemp -d /tmp/amidl-frontend.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

diags() { grep -E '^[^ ].*: (error|warning|fatal error): |^amidl: ' || true; }
indent() { sed 's/^/    /'; }

# check_eq NAME IDL FLAGS...: --check and a build agree
check_eq() {
    local name=$1 idl=$2; shift 2
    rm -rf "$TMP/out"; mkdir -p "$TMP/out"
    local a b ra rb
    timeout 60 "$AMIDL" --check "$@" "$idl" >/dev/null 2>"$TMP/a"; ra=$?
    timeout 60 "$AMIDL" "$@" --outdir "$TMP/out" "$idl" >/dev/null 2>"$TMP/b"; rb=$?
    a=$(diags < "$TMP/a"); b=$(diags < "$TMP/b")
    if [ "$ra" != "$rb" ] || [ "$a" != "$b" ]; then
        echo "FAIL $name: --check (exit $ra) and a build (exit $rb) differ"
        diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -10 | indent
    elif [ "$rb" -ne 0 ] && [ -n "$(ls -A "$TMP/out")" ]; then
        echo "FAIL $name: a failed build left files: $(ls "$TMP/out" | tr '\n' ' ')"
    else
        echo "ok $name"
    fi
}

for idl in tests/errors/*.idl; do
    check_eq "--check = build: $idl" "$idl" -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include"
done
for idl in tests/glue-errors/*.idl; do
    check_eq "--check = build: $idl" "$idl" -I runtime/idl
done
