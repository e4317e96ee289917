#!/usr/bin/env bash
# CI: checks that the committed minified banner files are current, without npm. Line 1 of each
# minified file records the SHA-256 of its source (written by scripts/build-banner.sh); a source edited
# without rebuilding fails here. The Rust test banner::tests::minified_assets_are_current checks the same.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/server/assets/banner"
status=0
for pair in assent.js:assent.min.js assent.css:assent.min.css; do
  src=${pair%%:*} min=${pair##*:}
  want="/*! $src src-sha256:$(sha256sum "$dir/$src" | cut -d' ' -f1) */"
  if [[ "$(head -n1 "$dir/$min" 2>/dev/null)" != "$want" ]]; then
    echo "check-banner: $min is stale or missing (its source $src changed): run scripts/build-banner.sh" >&2
    status=1
  fi
done
[[ $status == 0 ]] && echo "check-banner: assent.min.js and assent.min.css are current"
exit $status
