#!/usr/bin/env bash
# tier: check
# Command-line cases as data: each tests/cli/NAME/ (tests/cli/README.md)
# is copied to a scratch directory and amidl runs there with the words of
# its `args`; its exit status, output and files are compared with the
# case's expectations.
. tests/lib.sh

ABS_AMIDL=$(cd "$(dirname "$AMIDL")" && pwd)/$(basename "$AMIDL")
BASE=$PWD/runtime/idl       # $BASE in args: the runtime's base IDL
CONTROL=" args status stdout stderr stdout.grep stderr.grep files absent unchanged "

# lines NAME FILE: each line of FILE, without blank ones
lines() { grep -v '^$' "$1" 2>/dev/null || true; }

for dir in tests/cli/*/; do
    n=$(basename "$dir")
    [ -f "$dir/args" ] || { fail "cli $n" "no $dir/args"; continue; }
    W=$TMP/$n
    rm -rf "$W"; cp -r "$dir" "$W"
    for c in $CONTROL; do rm -f "$W/$c"; done
    eval "set -- $(cat "$dir/args")"
    rc=0
    (cd "$W" && limit 60 "$ABS_AMIDL" "$@" > "$TMP/$n.stdout" 2> "$TMP/$n.stderr" < /dev/null) || rc=$?
    want=$(cat "$dir/status" 2>/dev/null || echo 0)
    { echo "amidl $(cat "$dir/args")  (in a copy of $dir)"; echo "exit status $rc"; echo "-- stdout:"; cat "$TMP/$n.stdout"
      echo "-- stderr:"; cat "$TMP/$n.stderr"; } > "$TMP/$n.report"
    why=
    if [ "$rc" -ne "$want" ]; then why="$(status_text "$rc"), expected $want"; fi
    for s in stdout stderr; do
        [ -n "$why" ] || [ ! -f "$dir/$s" ] || cmp -s "$dir/$s" "$TMP/$n.$s" || {
            why="$s differs from $dir$s"; diff "$dir/$s" "$TMP/$n.$s" > "$TMP/$n.diff"
            { echo "-- diff (< expected, > got):"; cat "$TMP/$n.diff"; } >> "$TMP/$n.report"; }
        while [ -z "$why" ] && IFS= read -r pat; do
            grep -Eq -- "$pat" "$TMP/$n.$s" || why="$s has no line matching '$pat'"
        done < <(lines "$dir/$s.grep")
    done
    while [ -z "$why" ] && IFS= read -r f; do
        [ -s "$W/$f" ] || why="$f was not written"
    done < <(lines "$dir/files")
    while [ -z "$why" ] && IFS= read -r f; do
        [ ! -e "$W/$f" ] || why="$f exists, it must not"
    done < <(lines "$dir/absent")
    while [ -z "$why" ] && IFS= read -r f; do
        cmp -s "$dir/$f" "$W/$f" || why="$f was changed, it must not"
    done < <(lines "$dir/unchanged")
    if [ -z "$why" ] && tmps=$(cd "$W" && find . -name '*.tmp.*' | tr '\n' ' ') && [ -n "$tmps" ]; then
        why="temporary files left: $tmps"
    fi
    if [ -z "$why" ]; then ok "cli $n"; else fail "cli $n" "$why" "$TMP/$n.report"; fi
done
suite_end
