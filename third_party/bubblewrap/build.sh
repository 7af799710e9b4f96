#!/bin/sh
# Build recipe for a static, stripped bwrap. The packager runs it inside the
# unpacked (and patched) source tree with:
#   HOST               the GNU triplet to build for (x86_64-linux-gnu, aarch64-linux-gnu)
#   OUT                where the finished binary goes
#   SOURCE_DATE_EPOCH  the fixed time any embedded date must use
#   JOBS               parallel make jobs
# Reproducible: the source path is mapped to a fixed name, nothing embeds the
# time, and the build ID is dropped.
set -eu

cc=gcc
strip=strip
pkgconfig_path=
if [ "$HOST" != "$(gcc -dumpmachine)" ]; then
	cc=$HOST-gcc
	strip=$HOST-strip
	pkgconfig_path=/usr/lib/$HOST/pkgconfig
fi

src=$(pwd)
./configure --quiet --host="$HOST" --disable-selinux --disable-man \
	CC="$cc" \
	CFLAGS="-O2 -ffile-prefix-map=$src=/usr/src/bubblewrap" \
	LDFLAGS="-static -Wl,--build-id=none" \
	PKG_CONFIG_PATH="$pkgconfig_path" >/dev/null
make --quiet -j"$JOBS" bwrap >/dev/null
$strip --strip-all -o "$OUT" bwrap
