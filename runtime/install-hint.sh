#!/bin/sh
# runtime/install-hint.sh - run by make install (PREFIX, LIBDIR, DESTDIR in
# the environment): says how programs linked with libamidlrt.so find it at
# run time. It changes nothing (no ldconfig, no file outside the prefix).
dir=$PREFIX/$LIBDIR
if [ -n "$DESTDIR" ]; then
    echo "amidl: installed into $DESTDIR$PREFIX (a staged install: the package's scripts run ldconfig if $dir needs it)"
    exit 0
fi
# the directories the dynamic loader searches by itself, without a cache
case "$dir" in
    /lib|/lib64|/usr/lib|/usr/lib64) exit 0 ;;
esac
if command -v ldconfig >/dev/null 2>&1 || [ -x /sbin/ldconfig ]; then
    ldc=$(command -v ldconfig 2>/dev/null || echo /sbin/ldconfig)
    if "$ldc" -p 2>/dev/null | grep -q " => $dir/libamidlrt.so.0\$"; then
        exit 0    # already in the loader's cache
    fi
    # listed in /etc/ld.so.conf(.d): only the cache is out of date
    if cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | sed 's/#.*//' | grep -qx "[[:space:]]*$dir/*[[:space:]]*"; then
        echo "amidl: $dir is searched by the dynamic loader once its cache is updated: run 'sudo ldconfig'"
        echo "       (or link with -Wl,-rpath,$dir; the static libamidlrt.a needs neither)"
        exit 0
    fi
fi
echo "amidl: libamidlrt.so.0 is in $dir, which the dynamic loader does not search. A program linked"
echo "       with the shared library finds it with -Wl,-rpath,$dir (CMake's amidl::amidlrt_shared does"
echo "       that in the build tree), LD_LIBRARY_PATH=$dir, or a file in /etc/ld.so.conf.d/ naming"
echo "       $dir and 'sudo ldconfig'. The static libamidlrt.a (amidl::amidlrt) needs none of that."
