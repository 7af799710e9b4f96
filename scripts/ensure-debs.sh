#!/bin/sh
# ensure-debs.sh PKG...: install the Debian packages that are missing, once.
# Idempotent: with everything present it touches nothing and needs no network.
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

sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "ensure-debs: need root to install:$missing (run: apt-get install$missing)" >&2
		exit 1
	fi
fi
echo "ensure-debs: installing:$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # the package list is meant to split
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
