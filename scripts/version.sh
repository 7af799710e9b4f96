#!/bin/sh
# version.sh: print VERSION, COMMIT and DATE for the checkout, as make
# variables. A clean tree at a v* tag gets the tag's version; anything else
# is a snapshot, 0.0.0-snapshot.<shortsha>, valid semver and valid for npm
# (an all-digit sha gets a "g" in front: semver forbids a numeric identifier
# with a leading zero).
# DATE is the commit time, so the same commit always stamps the same bytes.
set -eu
commit=$(git rev-parse HEAD)
short=$(git rev-parse --short=12 HEAD)
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ HEAD)
tag=$(git describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null || true)
if [ -n "$tag" ] && [ -z "$(git status --porcelain)" ]; then
	version=${tag#v}
else
	case $short in
	*[!0-9]*) ;;
	*) short=g$short ;;
	esac
	version=0.0.0-snapshot.$short
fi
printf 'VERSION=%s\nCOMMIT=%s\nDATE=%s\n' "$version" "$commit" "$date"
