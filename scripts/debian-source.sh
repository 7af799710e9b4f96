#!/bin/sh
# debian-source.sh PACKAGE DIR: download PACKAGE's Debian source package into
# DIR with `apt-get source --download-only`, adding deb-src entries copied
# from the existing deb entries the first time. Our machines reach Debian's
# archive but not upstream hosts, so this is how pinned upstream tarballs
# (Debian's *.orig.tar.*) arrive; the packager then checks their digest.
set -eu
pkg=$1
dir=$2

srcs=/etc/apt/sources.list.d/deb-src-for-builds.sources
if ! grep -rqs '^\(deb-src\|Types:.*deb-src\)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		sudo="sudo"
		sudo -n true 2>/dev/null || {
			echo "debian-source: root is needed to add deb-src entries; run as root, or: sudo $0 $*" >&2
			exit 1
		}
	fi
	tmp=$(mktemp)
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] && grep -q "^Types: deb$" "$f" || continue
		sed "s/^Types: deb$/Types: deb-src/" "$f" >>"$tmp"
		echo >>"$tmp"
	done
	if [ -s "$tmp" ]; then
		$sudo cp "$tmp" "$srcs"
	elif [ -f /etc/apt/sources.list ]; then
		grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >"$tmp"
		$sudo cp "$tmp" /etc/apt/sources.list.d/deb-src-for-builds.list
	fi
	rm -f "$tmp"
	$sudo apt-get update -qq
fi
mkdir -p "$dir"
cd "$dir"
apt-get source --download-only -qq "$pkg" >/dev/null
ls "$dir"
