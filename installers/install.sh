#!/bin/sh
# Install tern from a published release: the archive, SHA256SUMS and
# SHA256SUMS.sigstore.json exactly as the release holds them.
#
#   curl -fsSL https://github.com/tern-agent/tern/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --version 1.2.3
#
# It fails closed: no checksum tool, no install; a checksum or signature that
# does not match, no install; and nothing it has not verified is ever run.
# The new version is unpacked beside the old one and a symlink is swapped
# atomically at the end, so any failure leaves the previous version working.
#
# Options (each also read from the environment):
#   --version X            TERN_VERSION        the version to install (default: latest)
#   --install-dir DIR      TERN_INSTALL_DIR    where the `tern` link goes (default: ~/.local/bin)
#   --no-modify-path       TERN_NO_MODIFY_PATH=1   leave shell profiles alone
#   --require-signature    TERN_REQUIRE_SIGNATURE=1   refuse to install without cosign
#   --uninstall            remove what this script installed
#   -y                     do not ask (this script asks nothing; accepted for habit)
# Also: TERN_DOWNLOAD_URL, the releases root (mirrors and tests), and
# TERN_COSIGN_KEY, a cosign public key for releases a mirror signs itself.

set -eu

# --- what the release looks like (checked against release.yaml by a test) ---
PRODUCT=tern
DEFAULT_DOWNLOAD_URL=https://github.com/tern-agent/tern/releases
SUPPORTED_TARGETS="linux-x64 linux-arm64 darwin-x64 darwin-arm64"
CERT_IDENTITY_REGEXP='^https://github\.com/tern-agent/tern/\.github/workflows/release\.yml@refs/tags/v'
CERT_OIDC_ISSUER=https://token.actions.githubusercontent.com
PROFILE_MARK="# added by the tern installer"

say() { printf 'tern-install: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

usage() {
	sed -n '/^# Options/,/^$/p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//' >&2 || true
	exit 2
}

version=${TERN_VERSION:-latest}
install_dir=${TERN_INSTALL_DIR:-$HOME/.local/bin}
modify_path=yes
[ "${TERN_NO_MODIFY_PATH:-}" = 1 ] && modify_path=no
require_signature=${TERN_REQUIRE_SIGNATURE:-0}
uninstall=no
root=${TERN_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
root=${root%/}
data_dir=${XDG_DATA_HOME:-$HOME/.local/share}/$PRODUCT

while [ $# -gt 0 ]; do
	case $1 in
	--version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift ;;
	--version=*) version=${1#*=} ;;
	--install-dir) [ $# -ge 2 ] || die "--install-dir needs a value"; install_dir=$2; shift ;;
	--install-dir=*) install_dir=${1#*=} ;;
	--no-modify-path) modify_path=no ;;
	--require-signature) require_signature=1 ;;
	--uninstall) uninstall=yes ;;
	-y | --yes) ;;
	-h | --help) usage ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
version=${version#v}

# --- uninstall -----------------------------------------------------------

# unprofile removes the lines this script added to a shell profile.
unprofile() {
	[ -f "$1" ] && grep -qF "$PROFILE_MARK" "$1" || return 0
	grep -vF "$PROFILE_MARK" "$1" >"$1.tern-tmp" || true # no line left is fine
	cat "$1.tern-tmp" >"$1"
	rm -f "$1.tern-tmp"
	say "removed the PATH line from $1"
}

# The receipt lists what an install created beyond the data directory:
# "profile:<file>" for a PATH line, "created:<file>" for a profile it
# created, "dir:<dir>" for a directory it made.
if [ "$uninstall" = yes ]; then
	link=$install_dir/$PRODUCT
	if [ -L "$link" ]; then
		case $(readlink "$link") in
		"$data_dir"/*) rm -f "$link" && say "removed $link" ;;
		*) say "left $link alone: it does not point into $data_dir" ;;
		esac
	fi
	receipt=$(cat "$data_dir/receipt" 2>/dev/null || true)
	printf '%s\n' "$receipt" | sed -n 's/^profile://p' | while IFS= read -r profile; do unprofile "$profile"; done
	# Profiles it created, if nothing but its line was ever in them.
	printf '%s\n' "$receipt" | sed -n 's/^created://p' | while IFS= read -r profile; do
		if [ -f "$profile" ] && [ ! -s "$profile" ]; then rm -f "$profile" && say "removed $profile"; fi
	done
	rm -rf "$data_dir" && say "removed $data_dir"
	# Directories it made, deepest first, and only if nothing else moved in.
	printf '%s\n' "$receipt" | sed -n 's/^dir://p' | sort -r | while IFS= read -r dir; do
		if rmdir "$dir" 2>/dev/null; then say "removed $dir"; fi
	done
	exit 0
fi

# --- where we are ----------------------------------------------------------

detect_target() {
	# shellcheck disable=SC2046 # two words, on purpose
	set -- $(uname -sm)
	os=$1
	arch=$2
	case $os in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	MINGW* | MSYS* | CYGWIN* | Windows_NT) die "on Windows, use install.ps1: irm $root/latest/download/install.ps1 | iex" ;;
	*) die "no $PRODUCT build for $os; supported: $SUPPORTED_TARGETS" ;;
	esac
	case $arch in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "no $PRODUCT build for $os on $arch; supported: $SUPPORTED_TARGETS" ;;
	esac
	# A shell under Rosetta 2 reports x86_64 on an Apple Silicon Mac: install
	# the native arm64 build.
	if [ "$os-$arch" = darwin-x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
		arch=arm64
	fi
	echo "$os-$arch"
}

# --- tools -----------------------------------------------------------------

# fetch URL FILE downloads with curl or wget, failing on any HTTP error or a
# body cut short.
fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 2 --retry-delay 1 --connect-timeout 20 -o "$2" "$1" || die "download failed: $1"
	elif command -v wget >/dev/null 2>&1; then
		url=$1
		out=$2
		# GNU wget retries 20 times by default; busybox wget knows no -t.
		if wget --version 2>/dev/null | grep -q GNU; then
			set -- -t 3 --waitretry=1
		else
			set --
		fi
		wget -q -T 20 "$@" -O "$out" "$url" || die "download failed: $url"
	else
		die "neither curl nor wget is installed; install one of them"
	fi
}

# sha256 FILE prints the file's digest with whichever tool exists. None
# existing is an error: the archive is never installed unchecked.
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		set -- "$(sha256sum "$1")"
	elif command -v shasum >/dev/null 2>&1; then
		set -- "$(shasum -a 256 "$1")"
	elif command -v openssl >/dev/null 2>&1; then
		set -- "$(openssl dgst -sha256 "$1")"
		set -- "${1##*= }"
	else
		die "no sha256sum, shasum or openssl to check the download with; install one (coreutils, perl or openssl) and run again"
	fi
	echo "${1%% *}"
}

verify_signature() {
	sums=$1
	bundle=$2
	if ! command -v cosign >/dev/null 2>&1; then
		[ "$require_signature" = 1 ] && die "--require-signature needs cosign on PATH to check SHA256SUMS.sigstore.json: install it from https://docs.sigstore.dev/cosign/system_config/installation/"
		say "cosign is not installed: the signature is not checked (the checksums are)"
		return 0
	fi
	if [ -n "${TERN_COSIGN_KEY:-}" ]; then
		# A mirror's own key; such bundles carry no transparency-log entry.
		set -- --key "$TERN_COSIGN_KEY" --insecure-ignore-tlog=true
	else
		set -- --certificate-identity-regexp "$CERT_IDENTITY_REGEXP" --certificate-oidc-issuer "$CERT_OIDC_ISSUER"
	fi
	cosign verify-blob "$@" --bundle "$bundle" "$sums" >/dev/null 2>&1 ||
		die "the signature SHA256SUMS.sigstore.json does not verify over SHA256SUMS: the release was altered; not installing"
	say "signature verified"
}

# check_entries refuses a tar with absolute paths, .. or links before a
# single byte of it is unpacked.
check_entries() {
	tar -tf "$1" >"$tmp/entries" 2>/dev/null || die "$2 is not a valid tar.gz"
	while IFS= read -r entry; do
		case "/$entry/" in
		//* | */../*) die "$2 holds an unsafe entry: $entry" ;;
		esac
	done <"$tmp/entries"
	tar -tvf "$1" >"$tmp/listing" 2>/dev/null || die "$2 is not a valid tar.gz"
	while IFS= read -r line; do
		case $line in
		-* | d*) ;;
		*) die "$2 holds a link or special file: $line" ;;
		esac
	done <"$tmp/listing"
}

# --- install ---------------------------------------------------------------

target=$(detect_target)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

if [ "$version" = latest ]; then
	# The latest release's own SHA256SUMS names it; no API token needed.
	fetch "$root/latest/download/SHA256SUMS" "$tmp/latest-sums"
	version=$(sed -n "s/^[0-9a-f]\{64\}  $PRODUCT-\(.*\)-$target\.tar\.gz$/\1/p" "$tmp/latest-sums" | head -n 1)
	[ -n "$version" ] || die "the latest release has no $PRODUCT archive for $target"
fi
case $version in
*[!0-9A-Za-z.+-]* | "") die "not a version: $version" ;;
esac

link=$install_dir/$PRODUCT
dest=$data_dir/versions/$version
if [ -x "$dest/bin/$PRODUCT" ] && [ "$(readlink "$link" 2>/dev/null)" = "$dest/bin/$PRODUCT" ]; then
	say "$PRODUCT $version is already installed at $link; nothing to do"
	exit 0
fi

archive=$PRODUCT-$version-$target.tar.gz
base=$root/download/v$version
say "installing $PRODUCT $version for $target from $base"
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS"
fetch "$base/$archive" "$tmp/$archive"

want=$(awk -v f="$archive" '$2 == f { print $1 }' "$tmp/SHA256SUMS")
case $want in
[0-9a-f]*) [ ${#want} -eq 64 ] || die "SHA256SUMS has a malformed line for $archive" ;;
*) die "SHA256SUMS lists no $archive" ;;
esac
got=$(sha256 "$tmp/$archive")
[ "$got" = "$want" ] || die "$archive has sha256 $got, but SHA256SUMS says $want: the download is corrupt or was altered; not installing"
say "checksum verified"

if [ "$require_signature" = 1 ] || command -v cosign >/dev/null 2>&1; then
	fetch "$base/SHA256SUMS.sigstore.json" "$tmp/SHA256SUMS.sigstore.json"
	verify_signature "$tmp/SHA256SUMS" "$tmp/SHA256SUMS.sigstore.json"
fi

# Decompressed once, then listed, checked and unpacked from the plain tar.
gzip -dc "$tmp/$archive" >"$tmp/archive.tar" 2>/dev/null || die "$archive is not a valid tar.gz"
check_entries "$tmp/archive.tar" "$archive"
mkdir "$tmp/unpacked"
tar -xf "$tmp/archive.tar" -C "$tmp/unpacked" || die "could not unpack $archive"
tree=$tmp/unpacked/$PRODUCT-$version-$target
[ -f "$tree/bin/$PRODUCT" ] || die "$archive has no bin/$PRODUCT"

# The binary is verified now; ask it what it is.
reported=$("$tree/bin/$PRODUCT" --version 2>/dev/null) || true
reported=${reported#"$PRODUCT "}
reported=${reported%%[ (
]*}
[ "$reported" = "$version" ] || die "the unpacked binary says it is version '$reported', not $version; not installing"

# mkdirs DIR creates DIR and its missing parents, and notes each it made in
# the receipt, so that --uninstall removes exactly those.
mkdirs() {
	missing=
	d=$1
	while [ ! -d "$d" ]; do
		missing="$d $missing"
		d=$(dirname "$d")
	done
	mkdir -p "$1"
	for d in $missing; do
		[ "$d" = "$data_dir" ] || case $d in "$data_dir"/*) ;; *) echo "dir:$d" >>"$receipt" ;; esac
	done
}

# Into place: the versioned tree by rename, then the link by rename.
trap 'rm -rf "$tmp" "$data_dir/versions/.partial-$version-$$"' EXIT
receipt=$tmp/receipt-new
: >"$receipt"
mkdirs "$data_dir/versions"
mkdirs "$install_dir"
cat "$receipt" >>"$data_dir/receipt"
receipt=$data_dir/receipt
mv "$tree" "$data_dir/versions/.partial-$version-$$"
if [ -d "$dest" ]; then
	# An earlier copy of this version: replace it with the one just verified.
	mv "$dest" "$data_dir/versions/.stale-$version-$$"
	mv "$data_dir/versions/.partial-$version-$$" "$dest"
	rm -rf "$data_dir/versions/.stale-$version-$$"
else
	mv "$data_dir/versions/.partial-$version-$$" "$dest"
fi
ln -s "$dest/bin/$PRODUCT" "$install_dir/.$PRODUCT.new-$$"
mv -f "$install_dir/.$PRODUCT.new-$$" "$link"
say "installed $PRODUCT $version: $link -> $dest/bin/$PRODUCT"

# --- PATH --------------------------------------------------------------------

case ":$PATH:" in
*":$install_dir:"*) ;;
*)
	if [ "$modify_path" = no ]; then
		say "$install_dir is not on PATH; add it yourself (--no-modify-path was given)"
	else
		line="export PATH=\"$install_dir:\$PATH\" $PROFILE_MARK"
		for profile in "$HOME/.profile" "$HOME/.bashrc" "$HOME/.zshrc"; do
			case $profile in
			*/.bashrc) [ -f "$profile" ] || [ "${SHELL##*/}" = bash ] || continue ;;
			*/.zshrc) [ -f "$profile" ] || [ "${SHELL##*/}" = zsh ] || continue ;;
			esac
			grep -qF "$PROFILE_MARK" "$profile" 2>/dev/null && continue
			[ -e "$profile" ] || echo "created:$profile" >>"$receipt"
			printf '%s\n' "$line" >>"$profile"
			echo "profile:$profile" >>"$receipt"
			say "added $install_dir to PATH in $profile"
		done
		say "open a new shell, or run: export PATH=\"$install_dir:\$PATH\""
	fi
	;;
esac
