#!/bin/sh
# Builds riscv64 static zlib and inih into a prefix (default /opt/riscv64) from Debian's
# *source* packages (Debian 12 has a riscv64 cross compiler but no riscv64 library packages).
# Nothing is copied into the repository. Needs a deb-src entry for bookworm (added here if
# missing), g++-riscv64-linux-gnu and dpkg-dev.
#   usage: tools/build_riscv64_deps.sh [PREFIX]
set -eu
prefix=${1:-/opt/riscv64}
cc=riscv64-linux-gnu-gcc
command -v "$cc" > /dev/null 2>&1 || { echo "build_riscv64_deps: $cc is missing (apt-get install g++-riscv64-linux-gnu)" >&2; exit 1; }
command -v dpkg-source > /dev/null 2>&1 || { echo "build_riscv64_deps: dpkg-source is missing (apt-get install dpkg-dev)" >&2; exit 1; }
if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  cat > /etc/apt/sources.list.d/debian-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/riscv64-deps.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fetch() {  # fetch PACKAGE: Debian's source package, unpacked into ./PACKAGE-src
  if ! apt-get source --download-only "$1" > "$1.log" 2>&1; then
    grep -E '^E:' "$1.log" | head -3 >&2
    echo "build_riscv64_deps: Debian's source package $1 could not be downloaded (above)" >&2
    exit 1
  fi
  dpkg-source -x "$(ls "$1"_*.dsc | head -1)" "$1-src" > /dev/null
}
mkdir -p "$prefix/include" "$prefix/lib"
fetch zlib
(cd zlib-src && CC=$cc AR=riscv64-linux-gnu-ar RANLIB=riscv64-linux-gnu-ranlib CFLAGS=-O2 \
   ./configure --static --prefix="$prefix" > /dev/null && make -s libz.a && make -s install > /dev/null)
fetch libinih
(cd libinih-src && $cc -O2 -c ini.c -o ini.o && riscv64-linux-gnu-ar rcs "$prefix/lib/libinih.a" ini.o &&
   cp ini.h "$prefix/include/")
echo "build_riscv64_deps: zlib and inih for riscv64 in $prefix"
