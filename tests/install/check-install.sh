#!/usr/bin/env bash
# After `meson install`, a C program builds against libpktcap with nothing but
# `pkg-config --cflags --libs libpktcap`, and a parent meson project can use the
# source tree as a subproject.
#
# usage: check-install.sh SOURCE_ROOT BUILD_ROOT PREFIX LIBDIR INCLUDEDIR CC [MANDIR]
set -euo pipefail
src=$1 build=$2 prefix=$3 libdir=$4 includedir=$5 cc=$6 mandir=${7:-}
version=$(sed -n "s/^ *version: '\([0-9.]*\)'.*/\1/p" "$src/meson.build" | head -n1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/destdir

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null

fail() { echo "install check: FAILED: $*"; exit 1; }
root=$dest$prefix
for f in "$includedir/pktcap/pktcap.h" "$includedir/pktcap/error.h" \
         "$includedir/pktcap/version.h" "$includedir/pktcap/common.h" \
         "$libdir/libpktcap.so.1" "$libdir/libpktcap.so.$version" "$libdir/libpktcap.so" \
         "$libdir/libpktcap.a" "$libdir/pkgconfig/libpktcap.pc" bin/pktcap; do
    [ -e "$root/$f" ] || fail "missing $f"
done
[ "$(readlink "$root/$libdir/libpktcap.so.1")" = "libpktcap.so.$version" ] || fail "libpktcap.so.1 link"
# The manual pages (doc/md2man.py), when the build made them: roff with a .TH line.
if [ -n "$mandir" ]; then
    for f in "$mandir/man1/pktcap.1" "$mandir/man3/libpktcap.3"; do
        grep -q '^\.TH ' "$root/$f" 2>/dev/null || fail "missing or empty manual page $f"
    done
fi

cat > "$work/user.c" <<'C'
#include <pktcap/pktcap.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    if (strcmp(pktcap_version(), PKTCAP_VERSION_STRING) != 0)
        return 1;
    printf("%s %s\n", pktcap_version(), pktcap_strerror(PKTCAP_E_TIMEOUT));
    return 0;
}
C
export PKG_CONFIG_PATH=$root/$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs libpktcap) || fail "pkg-config libpktcap"
[ "$(pkg-config --modversion libpktcap)" = "$version" ] || fail "pkg-config version"
# shellcheck disable=SC2086
$cc -std=c99 -Wall -Werror -o "$work/user" "$work/user.c" $flags || fail "compiling with pkg-config flags"
out=$(LD_LIBRARY_PATH=$root/$libdir "$work/user") || fail "running the program"
[ "$out" = "$version timed out" ] || fail "program printed '$out'"
# The program must have loaded the installed library, not some other one.
# (ldd's output is taken whole first: `ldd | grep -q` under pipefail fails
# whenever grep exits before ldd has written its last line.)
deps=$(LD_LIBRARY_PATH=$root/$libdir ldd "$work/user")
grep -q "$root/$libdir/libpktcap.so.1" <<<"$deps" \
    || fail "program did not resolve the installed libpktcap.so.1"
echo "install check: headers, libraries, pkg-config, pktcap${mandir:+ and man pages} installed; a pkg-config build runs"

# Subproject use: dependency('libpktcap') resolves to our override.
parent=$work/parent
mkdir -p "$parent/subprojects"
ln -s "$src" "$parent/subprojects/libpktcap"
cat > "$parent/meson.build" <<'M'
project('parent', 'c', default_options: ['c_std=c99'])
pktcap = dependency('libpktcap', fallback: ['libpktcap', 'pktcap_dep'],
                    default_options: ['tests=false', 'examples=false', 'python_bindings=false'])
executable('parent', 'parent.c', dependencies: pktcap)
M
cp "$work/user.c" "$parent/parent.c"
# The DESTDIR's libpktcap.pc is out of the search path and the fallback is
# forced, so the subproject is what gets used; the system's .pc files stay
# visible for our own dependencies (libpcap, jansson).
PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR= \
    meson setup --force-fallback-for=libpktcap "$parent/build" "$parent" >"$work/setup.log" 2>&1 \
    || { cat "$work/setup.log"; fail "meson setup of a parent project"; }
ninja -C "$parent/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building the parent project"; }
out=$("$parent/build/parent") || fail "running the parent project's program"
[ "$out" = "$version timed out" ] || fail "parent program printed '$out'"
echo "install check: used as a meson subproject, dependency('libpktcap') builds and runs"
