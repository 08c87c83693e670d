#!/usr/bin/env bash
# tier: check
# The preprocessor's limits count the right thing (grammar/pp.c,
# count_expansion): a 28,000-line generated IDL file with many ordinary
# macros passes (the limit is per expansion, not per file), while "billion
# laughs" (one expansion of 10^9 tokens) and many medium expansions in a
# small file (the run's cap, a ratio of the tokens read) stop with a located
# error and exit 1; a UTF-8 byte-order mark at the start of a file is
# skipped (main file, #include, import, standard input), elsewhere it is
# still an invalid byte; files of 64 KiB and more are mapped, not read
# (grammar/pp.c, read_whole): a NUL byte in one, an error in one imported
# (its excerpt printed after its pages were given back), one whose size is
# a multiple of the page size. Every input is generated here, in $TMP.
. tests/lib.sh

# --- a large file of ordinary macros
python3 - "$TMP/big.idl" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("typedef long HRESULT;\n")
    f.write("#define FIELD(t, n) t n;\n")
    f.write("#define FIELDS(p) FIELD(int, p##a) FIELD(long, p##b) FIELD(short, p##c) "
            "FIELD(char, p##d) FIELD(float, p##e) FIELD(double, p##f)\n")
    f.write("#define STRUCT(n) typedef struct S##n { FIELDS(f) } S##n;\n")
    for i in range(28000 - 4):
        f.write("STRUCT(%d)\n" % i)
    f.write("STRUCT(last)\n")
PYEOF
lines=$(wc -l < "$TMP/big.idl")
rc=0
mkdir -p "$TMP/out"
limit 120 "$AMIDL" --outdir "$TMP/out" "$TMP/big.idl" > "$TMP/big.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    fail "pp_limits: $lines-line file of ordinary macros" "$(status_text "$rc")" "$TMP/big.log"
elif ! grep -q "double ff;" "$TMP/out/big.h" || ! grep -q "} S27995;" "$TMP/out/big.h" ||
     ! grep -q "} Slast;" "$TMP/out/big.h"; then
    fail "pp_limits: $lines-line file of ordinary macros" "big.h lacks the expanded structures" "$TMP/out/big.h"
else
    ok "pp_limits: $lines-line file of ordinary macros"
fi

# expect_error NAME FILE PATTERN [amidl args]: exit 1, a located error matching PATTERN
expect_error() {
    local name=$1 file=$2 pat=$3; shift 3
    local rc=0
    limit 60 "$AMIDL" --check "$@" "$file" > /dev/null 2> "$TMP/err.log" || rc=$?
    if [ "$rc" -ne 1 ]; then
        fail "pp_limits: $name" "$(status_text "$rc"), expected exit status 1" "$TMP/err.log"
    elif ! diags < "$TMP/err.log" | grep -q -- "$pat"; then
        fail "pp_limits: $name" "no diagnostic matching '$pat'" "$TMP/err.log"
    else
        ok "pp_limits: $name"
    fi
}

# --- billion laughs: one expansion of 10^9 tokens
{
    echo "#define L0 lol lol lol lol lol lol lol lol lol lol"
    for i in 1 2 3 4 5 6 7 8; do
        p=$((i - 1)); echo "#define L$i L$p L$p L$p L$p L$p L$p L$p L$p L$p L$p"
    done
    echo "typedef int T;"
    echo "L8"
} > "$TMP/laughs.idl"
expect_error "billion laughs stops" "$TMP/laughs.idl" \
    "laughs.idl:11:1: error: macro expansion too large (limit 1048576 tokens)"

# --- many uses of a medium macro (1.1e5 tokens each, under the
# per-expansion limit): the whole run's cap stops them
{
    echo "#define L0 lol lol lol lol lol lol lol lol lol lol"
    for i in 1 2 3 4; do
        p=$((i - 1)); echo "#define L$i L$p L$p L$p L$p L$p L$p L$p L$p L$p L$p"
    done
    for i in $(seq 200); do echo "L4 L4 L4 L4 L4"; done
} > "$TMP/many.idl"
expect_error "many medium expansions stop" "$TMP/many.idl" \
    "many.idl:[0-9]*:[0-9]*: error: macro expansion too large for the input (limit [0-9]* tokens, 64 per token read)"

# --- twenty of those expansions (4.4e6 tokens counted, more than the old
# per-file limit) pass in a larger file: the run's cap grows with the tokens
# read (20,000 declarations, 1e5 tokens)
{
    echo "#define L0 lol lol lol lol lol lol lol lol lol lol"
    for i in 1 2 3 4; do
        p=$((i - 1)); echo "#define L$i L$p L$p L$p L$p L$p L$p L$p L$p L$p L$p"
    done
    echo "#define lol"
    for i in $(seq 4); do echo "L4 L4 L4 L4 L4"; done
    for i in $(seq 20000); do echo "typedef int T$i;"; done
} > "$TMP/medium.idl"
check "pp_limits: the same expansions in a larger file pass" "$AMIDL" --check "$TMP/medium.idl"

# --- nesting depth is still bounded
{
    echo "#define F(x) x"
    printf 'typedef int T%s;\n' "$(printf 'F(%.0s' $(seq 300))1$(printf ')%.0s' $(seq 300))"
} > "$TMP/deep.idl"
expect_error "deep macro arguments stop" "$TMP/deep.idl" "error: macro expansion nested too deeply (limit 256)"

# --- UTF-8 byte-order mark
bom=$'\xef\xbb\xbf'
printf '%s#define INC_TYPE long\n' "$bom" > "$TMP/inc.h"
printf '%stypedef short imported_t;\n' "$bom" > "$TMP/imp.idl"
printf '%s#include "inc.h"\nimport "imp.idl";\ntypedef INC_TYPE T1;\ntypedef imported_t T2;\n' "$bom" > "$TMP/bom.idl"
rm -rf "$TMP/out"; mkdir -p "$TMP/out"
rc=0
limit 60 "$AMIDL" --outdir "$TMP/out" "$TMP/bom.idl" > "$TMP/bom.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || [ -s "$TMP/bom.log" ]; then
    fail "pp_limits: BOM in the main file, an #include and an import" "$(status_text "$rc"), or diagnostics" "$TMP/bom.log"
elif ! grep -q "typedef LONG T1;" "$TMP/out/bom.h" || grep -q "$bom" "$TMP/out/bom.h"; then
    fail "pp_limits: BOM in the main file, an #include and an import" "bom.h is not as expected" "$TMP/out/bom.h"
else
    ok "pp_limits: BOM in the main file, an #include and an import"
fi

rc=0
printf '%stypedef int T;\n' "$bom" | limit 60 "$AMIDL" --check --name stdin - > "$TMP/stdin.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then fail "pp_limits: BOM on standard input" "$(status_text "$rc")" "$TMP/stdin.log"
else ok "pp_limits: BOM on standard input"; fi

# columns after a BOM count from the first character after it
printf '%stypedef int T\n' "$bom" > "$TMP/bomcol.idl"
expect_error "columns after a BOM" "$TMP/bomcol.idl" "bomcol.idl:1:14: error: syntax error"
printf '%stypedef nosuchtype T;\n' "$bom" > "$TMP/bomcol2.idl"
expect_error "columns after a BOM (line 1)" "$TMP/bomcol2.idl" "bomcol2.idl:1:9: error: unknown type name 'nosuchtype'"

# a BOM anywhere else is not skipped
printf 'typedef int T;\n%stypedef int U;\n' "$bom" > "$TMP/bommid.idl"
expect_error "BOM not at the start is an invalid byte" "$TMP/bommid.idl" "bommid.idl:2:1: error: invalid byte 0xef in source"

# --- large (mapped) files
python3 - "$TMP" <<'PYEOF'
import sys
d = sys.argv[1]
body = "".join("typedef int T%d;\n" % i for i in range(6000))     # 100 KB
open(d + "/bignul.idl", "w").write(body + "typedef int X\0;\n")
open(d + "/bigerr.idl", "w").write(body + "typedef nosuch Y;\n")
open(d + "/usebig.idl", "w").write('import "bigerr.idl";\ntypedef T1 U;\n')
s = body.replace("T", "P")
while (len(s) + 1) % 4096:
    s += " "
open(d + "/bigpage.idl", "w").write(s + "\n")
PYEOF
expect_error "NUL byte in a large file" "$TMP/bignul.idl" \
    "bignul.idl:6001:14: error: '.*bignul.idl' is not a text file (it contains a NUL byte)"
rc=0
limit 60 "$AMIDL" --check "$TMP/usebig.idl" > /dev/null 2> "$TMP/usebig.log" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "bigerr.idl:6001:9: error: unknown type name 'nosuch'" "$TMP/usebig.log" ||
   ! grep -q "^ typedef nosuch Y;" "$TMP/usebig.log"; then
    fail "pp_limits: error in a large imported file, with its source line" "$(status_text "$rc")" "$TMP/usebig.log"
else
    ok "pp_limits: error in a large imported file, with its source line"
fi
check "pp_limits: a large file whose size is a multiple of the page size" "$AMIDL" --check "$TMP/bigpage.idl"

suite_end
