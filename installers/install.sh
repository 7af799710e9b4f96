#!/bin/sh
# Install tern from a published release: the archive, SHA256SUMS and
# SHA256SUMS.sigstore.json exactly as the release holds them. The command
# is tern, linked into ~/.local/bin.
#
#   curl --proto '=https' --tlsv1.2 -fsSL https://github.com/tern-agent/tern/releases/latest/download/install.sh | sh
#   curl … | sh -s -- --version 1.2.3
#   curl … | sh -s -- --help
#
# It fails closed: no checksum tool, no install; a checksum or signature that
# does not match, no install. The signature over SHA256SUMS is checked with
# cosign when it is installed, else with openssl (no transparency log then);
# with neither, the script says plainly that it is not checked, and it never
# runs a binary whose signature it has not checked. Downloads are https only
# (loopback excepted), redirects included.
# The new version is unpacked beside the old one and a symlink is swapped
# atomically at the end, so any failure leaves the previous version working.
#
# The whole script is one { … } group: the shell parses all of it before it
# runs any of it, so a download cut anywhere is a syntax error that runs
# nothing. (A bare `main "$@"` last line is not enough: a cut right after
# "main" would still run an install with no arguments.)
{
set -eu

# --- what the release looks like (checked against release.yaml by a test) ---
PRODUCT=tern
BINARY=tern
DEFAULT_DOWNLOAD_URL=https://github.com/tern-agent/tern/releases
SUPPORTED_TARGETS="linux-x64 linux-arm64 darwin-x64 darwin-arm64"
# Go's name of each platform the release has a build for (goos_goarch, or
# goos_arm_N) = its target, as the archives name it.
TARGET_TABLE="linux_amd64=linux-x64 linux_arm64=linux-arm64 darwin_amd64=darwin-x64 darwin_arm64=darwin-arm64"
CERT_IDENTITY_REGEXP='^https://github\.com/tern-agent/tern/\.github/workflows/release\.yml@refs/tags/v'
CERT_OIDC_ISSUER=https://token.actions.githubusercontent.com
PROFILE_MARK="# added by the tern installer"
# What the binary's output must hold when it is asked its version (see
# run_version_check), {{.Version}} standing for the version.
VERSION_CONTAINS='{{.Version}}'

# The cosign public key a key-signed release is checked with. Empty: the
# release is signed keyless, by CERT_IDENTITY_REGEXP. The packager fills it
# from release.yaml when a release is signed with a key (see the README);
# --public-key FILE gives one for a mirror that signs its own releases.
PUBLIC_KEY_PEM=''

usage() {
	cat <<EOF
Install $PRODUCT from a published release, checking its checksums and signature.

  curl --proto '=https' --tlsv1.2 -fsSL $DEFAULT_DOWNLOAD_URL/latest/download/install.sh | sh -s -- [options]

Options (each also read from the environment):
  --version X            TERN_VERSION           the version to install (default: latest)
  --install-dir DIR      TERN_INSTALL_DIR       where the \`$BINARY\` link goes (default: ~/.local/bin)
  --no-modify-path       TERN_NO_MODIFY_PATH=1  leave shell profiles alone
  --require-signature    TERN_REQUIRE_SIGNATURE=1
                         refuse to install unless the signature is checked (needs cosign or openssl)
  --public-key FILE      TERN_PUBLIC_KEY        the cosign public key of a release signed with a key
  --insecure-allow-http  TERN_INSECURE_ALLOW_HTTP=1
                         allow a plain-http download root and redirects (a mirror on a trusted network)
  --uninstall            remove what this script installed
  -y, --yes              do not ask (this script asks nothing; accepted for habit)
  -h, --help             this text
Also: TERN_DOWNLOAD_URL, the releases root (mirrors and tests); https, or http on loopback.
EOF
}

say() { printf 'tern-install: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# --- arguments -------------------------------------------------------------

parse_args() {
	version=${TERN_VERSION:-latest}
	install_dir=${TERN_INSTALL_DIR:-$HOME/.local/bin}
	modify_path=yes
	[ "${TERN_NO_MODIFY_PATH:-}" != 1 ] || modify_path=no
	require_signature=${TERN_REQUIRE_SIGNATURE:-0}
	public_key=${TERN_PUBLIC_KEY:-${TERN_COSIGN_KEY:-}}
	allow_http=no
	[ "${TERN_INSECURE_ALLOW_HTTP:-}" != 1 ] || allow_http=yes
	uninstall=no
	while [ $# -gt 0 ]; do
		case $1 in
		--version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift ;;
		--version=*) version=${1#*=} ;;
		--install-dir) [ $# -ge 2 ] || die "--install-dir needs a value"; install_dir=$2; shift ;;
		--install-dir=*) install_dir=${1#*=} ;;
		--public-key) [ $# -ge 2 ] || die "--public-key needs a file"; public_key=$2; shift ;;
		--public-key=*) public_key=${1#*=} ;;
		--no-modify-path) modify_path=no ;;
		--require-signature) require_signature=1 ;;
		--insecure-allow-http) allow_http=yes ;;
		--uninstall) uninstall=yes ;;
		-y | --yes) ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown option $1 (see --help)" ;;
		esac
		shift
	done
	version=${version#v}
	case $install_dir in
	*'
'*) die "the install directory's name holds a newline; choose another with --install-dir" ;;
	/*) ;;
	*) install_dir=$(pwd)/$install_dir ;;
	esac
	root=${TERN_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
	root=${root%/}
	data_dir=${XDG_DATA_HOME:-$HOME/.local/share}/$PRODUCT
	link=$install_dir/$BINARY
}

# --- uninstall -----------------------------------------------------------

# unprofile removes the lines this script added to a shell profile.
unprofile() {
	[ -f "$1" ] && grep -qF "$PROFILE_MARK" "$1" || return 0
	grep -vF "$PROFILE_MARK" "$1" >"$1.tern-tmp" || true # no line left is fine
	cat "$1.tern-tmp" >"$1"
	rm -f "$1.tern-tmp"
	say "removed the PATH line from $1"
}

# The receipt lists, one per line, what an install created beyond the data
# directory: "profile:<file>" for a PATH line, "created:<file>" for a profile
# it created, "dir:<dir>" for a directory it made. Paths may hold any byte
# but a newline (refused), so it is read line by line, never word-split.
uninstall_all() {
	if [ -L "$link" ]; then
		case $(readlink "$link") in
		"$data_dir"/*) rm -f "$link" && say "removed $link" ;;
		*) say "left $link alone: it does not point into $data_dir" ;;
		esac
	fi
	receipt=$data_dir/receipt
	[ -f "$receipt" ] || receipt=/dev/null
	while IFS= read -r entry; do
		case $entry in
		profile:*) unprofile "${entry#profile:}" ;;
		esac
	done <"$receipt"
	# Profiles it created, if nothing but its line was ever in them.
	while IFS= read -r entry; do
		case $entry in
		created:*)
			entry=${entry#created:}
			if [ -f "$entry" ] && [ ! -s "$entry" ]; then rm -f "$entry" && say "removed $entry"; fi
			;;
		esac
	done <"$receipt"
	# Directories it made, deepest first, and only if nothing else moved in.
	dirs=$(sed -n 's/^dir://p' "$receipt" | sort -r)
	rm -rf "$data_dir" && say "removed $data_dir"
	printf '%s\n' "$dirs" | while IFS= read -r dir; do
		if [ -n "$dir" ] && rmdir "$dir" 2>/dev/null; then say "removed $dir"; fi
	done
}

# --- where we are ----------------------------------------------------------

# detect_target prints the target this machine installs: its Go platform
# looked up in TARGET_TABLE, or, failing that, one it also runs (an older
# arm, x86_64 under Rosetta on an Apple Silicon Mac).
detect_target() {
	# shellcheck disable=SC2046 # two words, on purpose
	set -- $(uname -sm)
	os=$1
	arch=$2
	# The BSDs give the machine's family in -m (arm, evbarm) and the
	# architecture in -p (armv7, earmv7hf, aarch64).
	case $arch in
	arm | evbarm | riscv | powerpc) arch=$(uname -p) ;;
	esac
	arch=${arch#e} # NetBSD's earmv7hf is an armv7
	case $os in
	Linux) goos=linux ;;
	Darwin) goos=darwin ;;
	FreeBSD) goos=freebsd ;;
	OpenBSD) goos=openbsd ;;
	NetBSD) goos=netbsd ;;
	MINGW* | MSYS* | CYGWIN* | Windows_NT) die "on Windows, use install.ps1: irm $root/latest/download/install.ps1 | iex" ;;
	*) die "no $PRODUCT build for $os on $arch; this release has: $SUPPORTED_TARGETS" ;;
	esac
	# Each platform this machine runs, the best first; an arm runs the
	# builds for older arms, never for newer ones.
	case $arch in
	x86_64 | amd64) platforms=${goos}_amd64 ;;
	i386 | i486 | i586 | i686 | x86) platforms=${goos}_386 ;;
	aarch64 | arm64) platforms=${goos}_arm64 ;;
	armv7* | armv8l) platforms="${goos}_arm_7 ${goos}_arm_6 ${goos}_arm_5" ;;
	armv6*) platforms="${goos}_arm_6 ${goos}_arm_5" ;;
	armv5*) platforms=${goos}_arm_5 ;;
	riscv64) platforms=${goos}_riscv64 ;;
	ppc64le | powerpc64le) platforms=${goos}_ppc64le ;;
	s390x) platforms=${goos}_s390x ;;
	loongarch64) platforms=${goos}_loong64 ;;
	*) die "no $PRODUCT build for $os on $arch, which this installer does not know; this release has: $SUPPORTED_TARGETS" ;;
	esac
	# A shell under Rosetta 2 reports x86_64 on an Apple Silicon Mac: install
	# the native arm64 build, if there is one.
	if [ "$platforms" = darwin_amd64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
		platforms="darwin_arm64 darwin_amd64"
	fi
	for platform in $platforms; do
		for entry in $TARGET_TABLE; do
			case $entry in
			"$platform="*)
				echo "${entry#*=}"
				return 0
				;;
			esac
		done
	done
	wanted=
	for platform in $platforms; do
		wanted=${wanted:+$wanted or }$platform
	done
	die "no $PRODUCT build for this machine, $os on $arch (Go's $wanted); this release has: $SUPPORTED_TARGETS"
}

# --- transport -------------------------------------------------------------

# check_url URL WHAT refuses anything but https, and plain http to a
# loopback address, unless --insecure-allow-http was given.
check_url() {
	case $1 in
	https://*) return 0 ;;
	http://*)
		hostport=${1#http://}
		hostport=${hostport%%[/?#]*}
		case $hostport in
		*@*) host=userinfo ;; # http://127.0.0.1@elsewhere/ is elsewhere
		\[::1\] | \[::1\]:*) host=loopback ;;
		*) host=${hostport%:*} ;;
		esac
		case $host in
		loopback | localhost) return 0 ;;
		127.*[!0-9.]*) ;;
		127.*) return 0 ;;
		esac
		if [ "$allow_http" = yes ]; then
			say "warning: $1 is plain http (--insecure-allow-http): anyone on the path can swap what it serves"
			return 0
		fi
		die "refusing $2 over plain http: $1 (only https, or http to 127.0.0.1, localhost or [::1]); use an https URL, or pass --insecure-allow-http for a mirror you trust on a trusted network"
		;;
	*) die "refusing $2 from $1: only https:// URLs (or http:// to loopback) are fetched; fix TERN_DOWNLOAD_URL" ;;
	esac
}

# fetch URL FILE downloads with curl or wget over https (see check_url),
# refusing redirects to plain http, and failing on any HTTP error or a body
# cut short.
fetch() {
	check_url "$1" download
	redir='=https'
	[ "$allow_http" = no ] || redir='=http,https'
	case $1 in
	https://*) proto='=https' ;;
	*) proto='=http,https' ;;
	esac
	if have curl; then
		curl -fsSL --proto "$proto" --proto-redir "$redir" --tlsv1.2 --retry 2 --retry-delay 1 --connect-timeout 20 \
			-o "$2" "$1" || die "download failed: $1"
	elif have wget && wget --version 2>/dev/null | grep -q GNU; then
		fetch_gnu_wget "$1" "$2"
	elif have wget; then
		# busybox wget follows redirects by itself, to http too, and has no
		# option against it: only a checked signature makes up for that.
		weak_transport=yes
		wget -q -T 20 -O "$2" "$1" || die "download failed: $1"
	else
		die "neither curl nor wget is installed; install one of them"
	fi
}

# fetch_gnu_wget follows redirects itself: GNU wget's --https-only does not
# apply to them, so each hop is checked like the first.
fetch_gnu_wget() {
	url=$1
	hops=0
	while :; do
		rc=0
		wget -q -S -T 20 -t 3 --waitretry=1 --max-redirect=0 -O "$2" "$url" 2>"$tmp/headers" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		loc=$(awk 'tolower($1) == "location:" { l = $2 } END { sub(/\r$/, "", l); print l }' "$tmp/headers")
		if [ "$rc" -ne 8 ] || [ -z "$loc" ]; then die "download failed: $1"; fi
		hops=$((hops + 1))
		[ "$hops" -le 10 ] || die "download failed: $1 redirects more than 10 times"
		case $loc in
		*://*) url=$loc ;;
		//*) url=${url%%//*}$loc ;;
		/*)
			rest=${url#*//}
			url=${url%%//*}//${rest%%/*}$loc
			;;
		*) url=${url%/*}/$loc ;;
		esac
		case $url in
		https://*) ;;
		*) [ "$allow_http" = yes ] || die "download failed: $1 redirects to $url, which is not https; not following it" ;;
		esac
		check_url "$url" "a redirect"
	done
}

# --- checks ----------------------------------------------------------------

# sha256 FILE prints the file's digest with whichever tool exists. None
# existing is an error: the archive is never installed unchecked.
sha256() {
	if have sha256sum; then
		set -- "$(sha256sum "$1")"
	elif have shasum; then
		set -- "$(shasum -a 256 "$1")"
	elif have openssl; then
		set -- "$(openssl dgst -sha256 "$1")"
		set -- "${1##*= }"
	else
		die "no sha256sum, shasum or openssl to check the download with; install one (coreutils, perl or openssl) and run again"
	fi
	echo "${1%% *}"
}

# json_str FILE KEY prints the first string value of "KEY" in a JSON file,
# pretty-printed or compact. Enough for a sigstore bundle, whose values here
# are base64 (no escapes but \/); what it finds is checked by openssl, so a
# misread can only fail the check, never pass it.
json_str() {
	awk -v key="$2" '
		{ s = s $0 " " }
		END {
			if (match(s, "\"" key "\"[ \t\r]*:[ \t\r]*\"[^\"]*\"")) {
				v = substr(s, RSTART, RLENGTH)
				sub(/^"[^"]*"[ \t\r]*:[ \t\r]*"/, "", v)
				sub(/"$/, "", v)
				gsub(/\\\//, "/", v)
				print v
			}
		}' "$1"
}

# json_int FILE KEY prints the first integer value of "KEY", quoted (as
# protojson writes an int64) or not.
json_int() {
	awk -v key="$2" '
		{ s = s $0 " " }
		END {
			if (match(s, "\"" key "\"[ \t\r]*:[ \t\r]*\"?[0-9]+")) {
				v = substr(s, RSTART, RLENGTH)
				sub(/^"[^"]*"[ \t\r]*:[ \t\r]*"?/, "", v)
				print v
			}
		}' "$1"
}

# The sigstore public-good Fulcio CA (valid from 2022-04-13), from
# sigstore's trusted root: the root, then its intermediate.
fulcio_roots() {
	cat <<'EOF'
-----BEGIN CERTIFICATE-----
MIIB9zCCAXygAwIBAgIUALZNAPFdxHPwjeDloDwyYChAO/4wCgYIKoZIzj0EAwMw
KjEVMBMGA1UEChMMc2lnc3RvcmUuZGV2MREwDwYDVQQDEwhzaWdzdG9yZTAeFw0y
MTEwMDcxMzU2NTlaFw0zMTEwMDUxMzU2NThaMCoxFTATBgNVBAoTDHNpZ3N0b3Jl
LmRldjERMA8GA1UEAxMIc2lnc3RvcmUwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAT7
XeFT4rb3PQGwS4IajtLk3/OlnpgangaBclYpsYBr5i+4ynB07ceb3LP0OIOZdxex
X69c5iVuyJRQ+Hz05yi+UF3uBWAlHpiS5sh0+H2GHE7SXrk1EC5m1Tr19L9gg92j
YzBhMA4GA1UdDwEB/wQEAwIBBjAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBRY
wB5fkUWlZql6zJChkyLQKsXF+jAfBgNVHSMEGDAWgBRYwB5fkUWlZql6zJChkyLQ
KsXF+jAKBggqhkjOPQQDAwNpADBmAjEAj1nHeXZp+13NWBNa+EDsDP8G1WWg1tCM
WP/WHPqpaVo0jhsweNFZgSs0eE7wYI4qAjEA2WB9ot98sIkoF3vZYdd3/VtWB5b9
TNMea7Ix/stJ5TfcLLeABLE4BNJOsQ4vnBHJ
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIICGjCCAaGgAwIBAgIUALnViVfnU0brJasmRkHrn/UnfaQwCgYIKoZIzj0EAwMw
KjEVMBMGA1UEChMMc2lnc3RvcmUuZGV2MREwDwYDVQQDEwhzaWdzdG9yZTAeFw0y
MjA0MTMyMDA2MTVaFw0zMTEwMDUxMzU2NThaMDcxFTATBgNVBAoTDHNpZ3N0b3Jl
LmRldjEeMBwGA1UEAxMVc2lnc3RvcmUtaW50ZXJtZWRpYXRlMHYwEAYHKoZIzj0C
AQYFK4EEACIDYgAE8RVS/ysH+NOvuDZyPIZtilgUF9NlarYpAd9HP1vBBH1U5CV7
7LSS7s0ZiH4nE7Hv7ptS6LvvR/STk798LVgMzLlJ4HeIfF3tHSaexLcYpSASr1kS
0N/RgBJz/9jWCiXno3sweTAOBgNVHQ8BAf8EBAMCAQYwEwYDVR0lBAwwCgYIKwYB
BQUHAwMwEgYDVR0TAQH/BAgwBgEB/wIBADAdBgNVHQ4EFgQU39Ppz1YkEZb5qNjp
KFWixi4YZD8wHwYDVR0jBBgwFoAUWMAeX5FFpWapesyQoZMi0CrFxfowCgYIKoZI
zj0EAwMDZwAwZAIwPCsQK4DYiZYDPIaDi5HFKnfxXx6ASSVmERfsynYBiX2X6SJR
nZU84/9DZdnFvvxmAjBOt6QpBlc4J/0DxvkTCqpclvziL6BCCPnjdlIB3Pu3BxsP
mygUY7Ii2zbdCdliiow=
-----END CERTIFICATE-----
EOF
}

# verify_signature SUMS BUNDLE sets verified=yes when the signature over
# SUMS checks out, dies when it does not, and says plainly when it cannot
# be checked at all (neither cosign nor openssl).
verify_signature() {
	sums=$1
	bundle=$2
	if [ -n "$public_key" ]; then
		[ -f "$public_key" ] || die "the public key $public_key is not a file; give the path of a cosign.pub (--public-key FILE)"
		key=$public_key
	elif [ -n "$PUBLIC_KEY_PEM" ]; then
		key=$tmp/pinned.pub
		printf '%s\n' "$PUBLIC_KEY_PEM" >"$key"
	else
		key=
	fi
	if have cosign; then
		if [ -n "$key" ]; then
			# A key-signed bundle carries no transparency-log entry.
			set -- --key "$key" --insecure-ignore-tlog=true
		else
			set -- --certificate-identity-regexp "$CERT_IDENTITY_REGEXP" --certificate-oidc-issuer "$CERT_OIDC_ISSUER"
		fi
		cosign verify-blob "$@" --bundle "$bundle" "$sums" >/dev/null 2>&1 ||
			die "the signature SHA256SUMS.sigstore.json does not verify over SHA256SUMS: the release was altered; not installing"
		say "signature verified (cosign)"
	elif have openssl; then
		verify_with_openssl "$sums" "$bundle" "$key"
	else
		[ "$require_signature" != 1 ] || die "--require-signature needs cosign or openssl on PATH to check SHA256SUMS.sigstore.json: install openssl, or cosign from https://docs.sigstore.dev/cosign/system_config/installation/"
		say "WARNING: the signature is NOT checked: neither cosign nor openssl is installed."
		say "WARNING: the checksums are, but whoever serves the release controls them too; the new binary is not run before it is installed."
		say "WARNING: install openssl or cosign to check it, or pass --require-signature to refuse such an install."
		return 0
	fi
	verified=yes
}

# verify_with_openssl SUMS BUNDLE KEY checks a sigstore bundle without
# cosign: with KEY, the signature over SUMS; without, the certificate's
# chain to Fulcio at the logged time, its identity and OIDC issuer, and the
# signature with its key. The transparency log is not checked.
verify_with_openssl() {
	bad="the signature SHA256SUMS.sigstore.json does not verify over SHA256SUMS"
	sig=$(json_str "$2" signature)
	[ -n "$sig" ] || die "$bad: it holds no message signature; not installing"
	printf '%s' "$sig" | openssl base64 -d -A >"$tmp/sig.der" 2>/dev/null || :
	[ -s "$tmp/sig.der" ] || die "$bad: its signature is not base64; not installing"
	if [ -n "$3" ]; then
		openssl dgst -sha256 -verify "$3" -signature "$tmp/sig.der" "$1" >/dev/null 2>&1 ||
			die "$bad with the public key $3: the release was altered; not installing"
		say "signature verified (openssl, with the public key $3)"
		return 0
	fi

	cert=$(json_str "$2" rawBytes)
	[ -n "$cert" ] || die "$bad: it holds no certificate, and no public key is pinned or given; if the release is signed with a key, pass --public-key FILE; not installing"
	when=$(json_int "$2" integratedTime)
	[ -n "$when" ] || die "$bad: it holds no transparency-log time, without which openssl cannot check its short-lived certificate; install cosign; not installing"
	printf '%s' "$cert" | openssl base64 -d -A 2>/dev/null | openssl x509 -inform DER -out "$tmp/leaf.pem" 2>/dev/null ||
		die "$bad: its certificate does not parse; not installing"
	if [ -n "${TERN_INSECURE_FULCIO_ROOTS:-}" ]; then
		say "WARNING: TERN_INSECURE_FULCIO_ROOTS=$TERN_INSECURE_FULCIO_ROOTS replaces sigstore's Fulcio CA: a signature is only as good as that file. Tests only."
		cat "$TERN_INSECURE_FULCIO_ROOTS" >"$tmp/fulcio.pem" || die "cannot read TERN_INSECURE_FULCIO_ROOTS=$TERN_INSECURE_FULCIO_ROOTS"
	else
		fulcio_roots >"$tmp/fulcio.pem"
	fi
	openssl verify -attime "$when" -CAfile "$tmp/fulcio.pem" -untrusted "$tmp/fulcio.pem" "$tmp/leaf.pem" >/dev/null 2>&1 ||
		die "$bad: its certificate is not Fulcio's, or was not valid at the logged time $when; not installing"
	openssl x509 -in "$tmp/leaf.pem" -noout -ext subjectAltName,extendedKeyUsage >"$tmp/leaf.ext" 2>/dev/null || : >"$tmp/leaf.ext"
	san=$(sed -n 's/^ *URI://p' "$tmp/leaf.ext")
	case $san in
	"" | *[\ ,]*) die "$bad: its certificate names no single identity URI; not installing" ;;
	esac
	printf '%s\n' "$san" | grep -Eq "$CERT_IDENTITY_REGEXP" ||
		die "$bad: it is signed by $san, not by $CERT_IDENTITY_REGEXP; not installing"
	grep -q 'Code Signing' "$tmp/leaf.ext" || die "$bad: its certificate is not for code signing; not installing"
	issuer=$(oidc_issuer "$tmp/leaf.pem")
	[ "$issuer" = "$CERT_OIDC_ISSUER" ] ||
		die "$bad: its certificate's OIDC issuer is '$issuer', not $CERT_OIDC_ISSUER; not installing"
	openssl x509 -in "$tmp/leaf.pem" -pubkey -noout >"$tmp/leaf.pub" 2>/dev/null || :
	openssl dgst -sha256 -verify "$tmp/leaf.pub" -signature "$tmp/sig.der" "$1" >/dev/null 2>&1 ||
		die "$bad with the key of its certificate for $san: the release was altered; not installing"
	say "signature verified (openssl): signed by $san"
	say "note: without cosign the transparency log is not checked; install cosign for the full check"
}

# oidc_issuer CERT prints Fulcio's OIDC issuer extension: 1.3.6.1.4.1.57264.1.8
# (a UTF8String), else the older 1.3.6.1.4.1.57264.1.1 (raw text).
oidc_issuer() {
	openssl asn1parse -in "$1" >"$tmp/leaf.asn1" 2>/dev/null || return 0
	at=$(awk '/:1\.3\.6\.1\.4\.1\.57264\.1\.8 *$/ { f = 1; next }
		f && /OCTET STRING/ { sub(/:.*/, ""); gsub(/ /, ""); print; exit }' "$tmp/leaf.asn1")
	if [ -n "$at" ]; then
		openssl asn1parse -in "$1" -strparse "$at" 2>/dev/null | sed -n 's/^.*UTF8STRING *://p'
		return 0
	fi
	awk '/:1\.3\.6\.1\.4\.1\.57264\.1\.1 *$/ { f = 1; next }
		f && /OCTET STRING/ { sub(/^.*OCTET STRING *:/, ""); print; exit }' "$tmp/leaf.asn1"
}

# run_version_check BINARY runs BINARY as release.yaml's version_check says,
# its output and errors together, reading nothing.
run_version_check() { "$1" '--version' </dev/null 2>&1; }

# version_text VERSION prints VERSION_CONTAINS with VERSION for each
# {{.Version}}: what the binary of that version prints.
version_text() {
	placeholder='{{.Version}}'
	rest=$VERSION_CONTAINS
	text=
	while :; do
		case $rest in
		*"$placeholder"*)
			text=$text${rest%%"$placeholder"*}$1
			rest=${rest#*"$placeholder"}
			;;
		*) break ;;
		esac
	done
	printf '%s\n' "$text$rest"
}

# reports_version OUTPUT VERSION succeeds when OUTPUT states VERSION: it
# holds version_text somewhere that what follows does not go on with a
# version (1.2.3 is not 1.2.30, nor 1.2.3-rc.1). Every occurrence is tried,
# not only the first: "update: 1.2.30 is out" before "acme 1.2.3" does not
# hide it. The packager's verify applies the same rule
# (config.VersionCheck.Reports), and a test holds the two together. The
# letters are listed, not ranged: a range would follow the locale.
reports_version() {
	want=$(version_text "$2")
	left=$1
	while :; do
		case $left in
		*"$want"*) ;;
		*) return 1 ;;
		esac
		case ${left#*"$want"} in
		[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-]*) ;;
		*) return 0 ;;
		esac
		# On from one character past where this occurrence starts; a
		# byte that ? does not match ends the search.
		next=${left#"${left%%"$want"*}"?}
		[ "$next" != "$left" ] || return 1
		left=$next
	done
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

# mkdirs DIR creates DIR and its missing parents, and notes each it made in
# the receipt, one per line, so that --uninstall removes exactly those.
mkdirs() {
	[ ! -d "$1" ] || return 0
	mkdirs "$(dirname "$1")"
	mkdir "$1" || die "could not create $1"
	case $1 in
	"$data_dir" | "$data_dir"/*) ;;
	*) printf 'dir:%s\n' "$1" >>"$receipt" ;;
	esac
}

# sh_quote WORD prints WORD single-quoted for sh: a path in a profile is
# data, never code.
sh_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# cleanup is the one exit trap: the download dir, and a half-moved version.
cleanup() {
	[ -z "$partial" ] || rm -rf "$partial"
	[ -z "$tmp" ] || rm -rf "$tmp"
}

# --- install ---------------------------------------------------------------

install_release() {
	target=$(detect_target)
	check_url "$root" "TERN_DOWNLOAD_URL"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-install.XXXXXX")

	if [ "$version" = latest ]; then
		# The latest release's own SHA256SUMS names it; no API token needed.
		fetch "$root/latest/download/SHA256SUMS" "$tmp/latest-sums"
		version=$(sed -n "s/^[0-9a-f]\{64\}  $PRODUCT-\(.*\)-$target\.tar\.gz$/\1/p" "$tmp/latest-sums" | head -n 1)
		[ -n "$version" ] || die "the latest release has no $PRODUCT archive for $target"
	fi
	case $version in
	*[!0-9A-Za-z.+-]* | "") die "not a version: $version" ;;
	esac

	dest=$data_dir/versions/$version
	if [ -x "$dest/bin/$BINARY" ] && [ "$(readlink "$link" 2>/dev/null)" = "$dest/bin/$BINARY" ]; then
		say "$PRODUCT $version is already installed at $link; nothing to do"
		return 0
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

	if [ "$require_signature" = 1 ] || have cosign || have openssl; then
		fetch "$base/SHA256SUMS.sigstore.json" "$tmp/SHA256SUMS.sigstore.json"
	fi
	verify_signature "$tmp/SHA256SUMS" "$tmp/SHA256SUMS.sigstore.json"
	if [ "$verified" != yes ] && [ "$weak_transport" = yes ] && [ "$allow_http" != yes ]; then
		die "busybox wget cannot refuse a redirect to plain http, and the signature could not be checked: install curl, GNU wget or openssl and run again"
	fi

	# Decompressed once, then listed, checked and unpacked from the plain tar.
	gzip -dc "$tmp/$archive" >"$tmp/archive.tar" 2>/dev/null || die "$archive is not a valid tar.gz"
	check_entries "$tmp/archive.tar" "$archive"
	mkdir "$tmp/unpacked"
	tar -xf "$tmp/archive.tar" -C "$tmp/unpacked" || die "could not unpack $archive"
	tree=$tmp/unpacked/$PRODUCT-$version-$target
	[ -f "$tree/bin/$BINARY" ] || die "$archive has no bin/$BINARY"

	if [ "$verified" = yes ]; then
		# The binary is verified now; ask it what it is.
		reported=$(run_version_check "$tree/bin/$BINARY") || true
		reports_version "$reported" "$version" ||
			die "the unpacked $BINARY does not report version $version: its output should hold '$(version_text "$version")' (release.yaml's version_check), and begins '$(printf '%s\n' "$reported" | head -n 1 | cut -c 1-200)'; not installing"
	else
		say "not running the unchecked binary: its version, $version, is the one SHA256SUMS and the archive's tree name give"
	fi

	# Into place: the versioned tree by rename, then the link by rename.
	receipt=$tmp/receipt-new
	: >"$receipt"
	mkdirs "$data_dir/versions"
	mkdirs "$install_dir"
	cat "$receipt" >>"$data_dir/receipt"
	receipt=$data_dir/receipt
	partial=$data_dir/versions/.partial-$version-$$
	mv "$tree" "$partial"
	if [ -d "$dest" ]; then
		# An earlier copy of this version: replace it with the one just checked.
		mv "$dest" "$data_dir/versions/.stale-$version-$$"
		mv "$partial" "$dest"
		rm -rf "$data_dir/versions/.stale-$version-$$"
	else
		mv "$partial" "$dest"
	fi
	partial=
	ln -s "$dest/bin/$BINARY" "$install_dir/.$BINARY.new-$$"
	mv -f "$install_dir/.$BINARY.new-$$" "$link"
	say "installed $PRODUCT $version: $link -> $dest/bin/$BINARY"

	add_to_path
}

# --- PATH --------------------------------------------------------------------

add_to_path() {
	case ":$PATH:" in
	*":$install_dir:"*) return 0 ;;
	esac
	if [ "$modify_path" = no ]; then
		say "$install_dir is not on PATH; add it yourself (--no-modify-path was given)"
		return 0
	fi
	line="export PATH=$(sh_quote "$install_dir"):\"\$PATH\""
	for profile in "$HOME/.profile" "$HOME/.bashrc" "$HOME/.zshrc"; do
		case $profile in
		*/.bashrc) [ -f "$profile" ] || [ "${SHELL##*/}" = bash ] || continue ;;
		*/.zshrc) [ -f "$profile" ] || [ "${SHELL##*/}" = zsh ] || continue ;;
		esac
		! grep -qF "$PROFILE_MARK" "$profile" 2>/dev/null || continue
		[ -e "$profile" ] || printf 'created:%s\n' "$profile" >>"$receipt"
		printf '%s %s\n' "$line" "$PROFILE_MARK" >>"$profile"
		printf 'profile:%s\n' "$profile" >>"$receipt"
		say "added $install_dir to PATH in $profile"
	done
	say "open a new shell, or run: $line"
}

main() {
	tmp=
	partial=
	verified=no
	weak_transport=no
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	parse_args "$@"
	if [ "$uninstall" = yes ]; then
		uninstall_all
	else
		install_release
	fi
}

main "$@"
}
