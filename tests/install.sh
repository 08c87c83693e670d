#!/usr/bin/env bash
# tests/install.sh TMPDIR - install into a temporary prefix, build the
# simplestream client with each build-system example against the installed
# copy only (PATH and pkg-config/CMake point at the prefix; nothing from
# the source tree's build/), run it, then uninstall. Prints ok:/FAIL: lines.
set -u
T=$1
P=$T/prefix
rm -rf "$T"; mkdir -p "$T"
run_client() {    # $1 = the client binary, $2 = name
    if out=$("$1" 2>&1) && printf '%s' "$out" | grep -q 'read 44 bytes: "The quick brown fox jumps over the lazy dog."'; then
        echo "ok: $2 builds and runs the simplestream client"
    else
        echo "FAIL: $2: the client did not run correctly"; printf '%s\n' "$out" | tail -3
    fi
}
if make -s install PREFIX="$P" >"$T/install.log" 2>&1; then echo "ok: make install"; else echo "FAIL: make install"; tail -5 "$T/install.log"; exit 0; fi
for f in bin/amidl lib/libamidlrt.a lib/libamidlrt.so.0 lib/libamidlrt.so include/amidl/amidlrt.h include/amidl/unknwn.idl \
         include/amidl/objidlbase.h lib/pkgconfig/libamidlrt.pc lib/cmake/amidl/amidlConfig.cmake share/man/man1/amidl.1; do
    [ -e "$P/$f" ] && echo "ok: installed $f" || echo "FAIL: $f not installed"
done
readelf -d "$P/lib/libamidlrt.so.0" | grep -q 'SONAME.*libamidlrt.so.0' && echo "ok: soname libamidlrt.so.0" || echo "FAIL: soname"
export PATH="$P/bin:$PATH" PKG_CONFIG_PATH="$P/lib/pkgconfig"
# amidl finds its base IDL without -I once installed
printf 'import "objidlbase.idl";\n' > "$T/probe.idl"
"$P/bin/amidl" --check "$T/probe.idl" && echo "ok: installed amidl finds the base IDL without -I" || echo "FAIL: base IDL not found"
# make
cp -r samples "$T/src"
if make -s -C "$T/src/build/make" PREFIX="$P" >"$T/make.log" 2>&1; then run_client "$T/src/build/make/out/client" "make"
else echo "FAIL: make example"; tail -5 "$T/make.log"; fi
# cmake, with Ninja and with Unix Makefiles
for gen in Ninja "Unix Makefiles"; do
    b="$T/cmake-$(echo "$gen" | tr ' ' '_')"
    if cmake -S "$T/src/build/cmake" -B "$b" -G "$gen" -DCMAKE_PREFIX_PATH="$P" >"$b.log" 2>&1 &&
       cmake --build "$b" >>"$b.log" 2>&1; then run_client "$b/client" "cmake ($gen)"
    else echo "FAIL: cmake example ($gen)"; tail -5 "$b.log"; fi
done
# meson
if command -v meson >/dev/null; then
    if meson setup "$T/meson" "$T/src/build/meson" >"$T/meson.log" 2>&1 && ninja -C "$T/meson" >>"$T/meson.log" 2>&1; then
        LD_LIBRARY_PATH="$P/lib" run_client "$T/meson/client" "meson"
    else echo "FAIL: meson example"; tail -8 "$T/meson.log"; fi
fi
# the README's tutorial, line by line (with this prefix for $HOME/amidl)
tut=$(sed -n '/^## Tutorial/,/^What happens there/p' README.md | sed -n '/^```sh$/,/^```$/p' | grep -v '^```' | grep -v '^make install')
if [ -n "$tut" ] && out=$(cd . && HOME="$T/home" bash -c "set -e; mkdir -p \"\$HOME\"; ln -sfn '$P' \"\$HOME/amidl\"; rm -rf /tmp/tutorial; $tut" 2>&1) &&
   printf '%s' "$out" | grep -q 'read 44 bytes: "The quick brown fox jumps over the lazy dog."'; then
    echo "ok: the README tutorial works copied line by line"
else
    echo "FAIL: the README tutorial"; printf '%s\n' "$out" | tail -5
fi
rm -rf /tmp/tutorial "$T/home"
make -s uninstall PREFIX="$P" >/dev/null 2>&1
left=$(find "$P" -type f -o -type l | wc -l)
[ "$left" -eq 0 ] && echo "ok: make uninstall removes exactly what was installed" || { echo "FAIL: $left files left after uninstall"; find "$P" -type f -o -type l | head; }
