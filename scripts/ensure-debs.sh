#!/bin/sh
# ensure-debs.sh PKG...: install the Debian packages that are missing, once.
# Idempotent: with everything present it touches nothing and needs no network.
# A package named NAME:ARCH (libcap-dev:arm64) turns on that foreign
# architecture first, as multiarch cross-builds need.
# On a system without dpkg (macOS, Windows) it says so and succeeds, because
# the tests that need these packages skip there with their own reason.
set -eu

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "ensure-debs: no dpkg here; not installing: $*" >&2
	exit 0
fi

missing=""
for pkg in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

archs=""
for pkg in $missing; do
	case $pkg in
	*:*)
		arch=${pkg#*:}
		dpkg --print-foreign-architectures | grep -qx "$arch" || archs="$archs $arch"
		;;
	esac
done

sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo"
	else
		echo "ensure-debs: root is needed to install:$missing" >&2
		for arch in $archs; do echo "  run: sudo dpkg --add-architecture $arch" >&2; done
		echo "  run: sudo apt-get update && sudo apt-get install -y$missing" >&2
		exit 1
	fi
fi
for arch in $archs; do
	echo "ensure-debs: adding the $arch architecture" >&2
	$sudo dpkg --add-architecture "$arch"
done
echo "ensure-debs: installing:$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # the package list is meant to split
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
