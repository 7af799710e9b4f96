#!/bin/sh
# reproducible.sh REPO GORELEASER: cut a snapshot of REPO's HEAD from two
# fresh clones at different paths and demand byte-identical SHA256SUMS.
# Then the split case: two more clones each build half the targets
# (packager build), a third merges their handoffs (packager merge), and its
# SHA256SUMS must be the one-machine release's.
# SHA256SUMS covers every archive and the manifest, so equal sums mean equal
# bytes. The signatures differ (throw-away keys) and are not compared.
set -eu
repo=$1
goreleaser=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
# One commit for every clone, read once: a commit landing in REPO while the
# clones are made must not give them different versions.
commit=$(git -C "$repo" rev-parse HEAD)
clone() { git clone --quiet "$repo" "$1" && git -C "$1" checkout --quiet --detach "$commit"; }

for clone in "$work/a" "$work/elsewhere/b"; do
	clone "$clone"
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

# The split case, as the release workflow runs it on three machines.
build_half() { # CLONE TARGETS
	clone "$1"
	(cd "$1" && go build -o dist/tools/packager ./packager/cmd/packager &&
		dist/tools/packager build --snapshot --goreleaser "$goreleaser" --targets "$2" --out "$1.handoff" >"$1.log" 2>&1) ||
		{ cat "$1.log"; echo "reproducible: packager build --targets $2 failed in $1" >&2; exit 1; }
}
build_half "$work/split/unix" linux-x64,linux-arm64,darwin-x64,darwin-arm64
build_half "$work/split/windows" windows-x64,windows-arm64
merger=$work/split/merge
clone "$merger"
(cd "$merger" && go build -o dist/tools/packager ./packager/cmd/packager &&
	dist/tools/packager merge --snapshot "$work/split/unix.handoff" "$work/split/windows.handoff" >"$merger.log" 2>&1) ||
	{ cat "$merger.log"; echo "reproducible: packager merge failed in $merger" >&2; exit 1; }
if cmp -s "$work/a/dist/release/SHA256SUMS" "$merger/dist/release/SHA256SUMS"; then
	echo "reproducible: built on two clones and merged on a third, the same SHA256SUMS as one machine"
else
	diff "$work/a/dist/release/SHA256SUMS" "$merger/dist/release/SHA256SUMS" >&2 || true
	echo "reproducible: the split release differs from the one-machine release" >&2
	exit 1
fi
