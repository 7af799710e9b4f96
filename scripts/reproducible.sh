#!/bin/sh
# reproducible.sh REPO GORELEASER: cut a snapshot of REPO's HEAD from two
# fresh clones at different paths and demand byte-identical SHA256SUMS.
# SHA256SUMS covers every archive and the manifest, so equal sums mean equal
# bytes. The signatures differ (throw-away keys) and are not compared.
set -eu
repo=$1
goreleaser=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

for clone in "$work/a" "$work/elsewhere/b"; do
	git clone --quiet "$repo" "$clone"
	(cd "$clone" && go build -o dist/tools/packager ./packager/cmd/packager &&
		dist/tools/packager release --snapshot --goreleaser "$goreleaser" >"$clone.log" 2>&1) ||
		{ cat "$clone.log"; echo "reproducible: the release failed in $clone" >&2; exit 1; }
done
if cmp -s "$work/a/dist/release/SHA256SUMS" "$work/elsewhere/b/dist/release/SHA256SUMS"; then
	echo "reproducible: two clones gave identical SHA256SUMS ($(wc -l <"$work/a/dist/release/SHA256SUMS") files)"
else
	diff "$work/a/dist/release/SHA256SUMS" "$work/elsewhere/b/dist/release/SHA256SUMS" >&2 || true
	echo "reproducible: two clones of the same commit gave different bytes" >&2
	exit 1
fi
