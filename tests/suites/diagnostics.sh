#!/usr/bin/env bash
# tier: check
# The one table of diagnostics (grammar/diag.def): every error_at() format
# of the sources is in it (so -fdiagnostics-format=msvc gives it a code of
# its own), no code is used twice, and --help and the man page list every
# warning flag.
. tests/lib.sh

python3 - "$TMP" <<'PYEOF'
import re, sys, glob
tmp = sys.argv[1]
table = open("grammar/diag.def").read()
def lits(s):
    return [bytes(m, "utf-8").decode("unicode_escape") for m in re.findall(r'"((?:\\.|[^"\\])*)"', s)]
errors, codes, warnings = {}, {}, []
for m in re.finditer(r'^ERROR\((\d+),\s*"((?:\\.|[^"\\])*)"\)', table, re.M):
    text = bytes(m.group(2), "utf-8").decode("unicode_escape")
    errors[text] = m.group(1)
    codes.setdefault(m.group(1), []).append(text)
for m in re.finditer(r'^WARNING\((\w+),\s*"([\w-]+)",\s*([01]),\s*(\d+),', table, re.M):
    warnings.append(m.group(2))
    codes.setdefault(m.group(4), []).append("-W" + m.group(2))
with open(tmp + "/warnings", "w") as f:
    f.write("\n".join(warnings) + "\n")

def call_args(text, start):
    """The text of a call's arguments, from just after '(' to its ')'."""
    depth, i = 1, start
    while i < len(text) and depth:
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == '\\' else 1
        elif c == "'":
            i += 1
            while text[i] != "'":
                i += 2 if text[i] == '\\' else 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return text[start:i - 1]

prefixes = [t[:-1] for t in errors if t.endswith("*")]
bad = []
srcs = sorted(glob.glob("grammar/*.c") + glob.glob("grammar/*.y") + glob.glob("grammar/*.l") + glob.glob("codegen/*.c"))
ncalls = 0
for path in srcs:
    text = open(path).read()
    for m in re.finditer(r'\b(error_at|eval_error)\s*\(', text):
        before = text[max(0, m.start() - 20):m.start()]
        if re.search(r'(void|static)\s*$', before):
            continue                # the definition
        args = call_args(text, m.end())
        # adjacent literals are one string
        args = re.sub(r'"\s*\n\s*"', "", args)
        found = lits(args)
        line = text.count("\n", 0, m.start()) + 1
        ncalls += 1
        if m.group(1) == "eval_error":
            if not any(any(s.startswith(p) for p in prefixes) for s in found):
                bad.append("%s:%d: eval_error message %r has no entry" % (path, line, found))
            continue
        if not found or found[0] == "%s":
            continue                # a message made elsewhere (checked there)
        if not any(s in errors for s in found):
            bad.append("%s:%d: format %r is not in grammar/diag.def" % (path, line, found[0]))
dup = {c: t for c, t in codes.items() if len(t) > 1}
for c, t in dup.items():
    bad.append("code %s is used %d times: %s" % (c, len(t), t))
if ncalls < 50 or len(errors) < 50 or len(warnings) < 5:
    bad.append("the scan found only %d calls, %d errors, %d warnings" % (ncalls, len(errors), len(warnings)))
with open(tmp + "/bad", "w") as f:
    f.write("".join(b + "\n" for b in bad))
PYEOF
if [ -s "$TMP/bad" ]; then fail "every error format has a code in grammar/diag.def, each code once" "mismatches" "$TMP/bad"
elif [ ! -s "$TMP/warnings" ]; then fail "every error format has a code in grammar/diag.def, each code once" "no table read"
else ok "every error format has a code in grammar/diag.def, each code once"; fi

"$AMIDL" --help > "$TMP/help" 2>&1
missing=
while read -r w; do
    grep -q -- "-W$w " "$TMP/help" || missing="$missing -W$w(--help)"
    grep -q -- "^\.B \\\\-W$(printf '%s' "$w" | sed 's/-/\\\\-/g')\$" docs/amidl.1 || missing="$missing -W$w(man)"
done < "$TMP/warnings"
if [ -n "$missing" ]; then fail "--help and the man page list every warning" "missing:$missing"
else ok "--help and the man page list every warning"; fi

# a code in msvc format is the table's, not a hash: the same error in two
# different files gets the same number, a different error another one
printf 'typedef struct S { void v; } S;\n' > "$TMP/a.idl"
printf '\n\ntypedef struct T { int x; void w; } T;\n' > "$TMP/b.idl"
printf 'const int X = 1 / 0;\n' > "$TMP/c.idl"
codes=$(for f in a b c; do "$AMIDL" --check -fdiagnostics-format=msvc "$TMP/$f.idl" 2>&1 | sed -n 's/.*error \(AMIDL[0-9]*\):.*/\1/p'; done | tr '\n' ' ')
void=$(sed -n 's/^ERROR(\([0-9]*\), "field .%s. has type void")$/AMIDL\1/p' grammar/diag.def)
div=$(sed -n 's/^ERROR(\([0-9]*\), "division by zero in constant expression")$/AMIDL\1/p' grammar/diag.def)
if [ -n "$void" ] && [ -n "$div" ] && [ "$codes" = "$void $void $div " ]; then ok "msvc codes come from the table ($codes)"
else fail "msvc codes come from the table" "got '$codes', expected '$void $void $div '"; fi
suite_end
