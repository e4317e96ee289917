#!/usr/bin/env bash
# Minifies the Assent banner (crates/server/assets/banner):
#   assent.js  -> assent.min.js  (terser, pinned in scripts/banner/package-lock.json)
#   assent.css -> assent.min.css (whitespace/comment-only minifier below)
# The first line of each output is `/*! <source name> src-sha256:<sha256 of the source file> */`, so that
# CI can check, without npm, that the committed minified files are current (scripts/check-banner.sh and
# the Rust test banner::tests::minified_assets_are_current).
# Needs node >= 18 and npm (the npm registry). node_modules goes to a temporary directory, never the tree.
# Usage: scripts/build-banner.sh            rebuild the two files, print their sizes
#        scripts/build-banner.sh --check    exit 1 if a minified file's recorded hash is stale (no npm needed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/crates/server/assets/banner"

if [[ "${1:-}" == "--check" ]]; then
  exec bash "$root/scripts/check-banner.sh"
fi

head_of() { echo "/*! $1 src-sha256:$(sha256sum "$dir/$1" | cut -d' ' -f1) */"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/scripts/banner/package.json" "$root/scripts/banner/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

# assent.js is the body of `function(C,S){...}`: wrap it in an assignment so terser keeps it whole,
# keep the names C and S, then cut the wrapper off again. Properties named `_...` (expandos the script
# sets on page elements) are mangled too. Measured (gzip of the whole response): unsafe*, pure_getters,
# toplevel (nothing is top level here) and passes > 3 gain nothing; booleans_as_integers gains 4 bytes
# but changes what `assent.hasConsent` returns, so it is off.
prefix='window.__assent=function(C,S){'
{ printf '%s' "$prefix"; cat "$dir/assent.js"; printf '\n};\n'; } >"$work/in.js"
"$work/node_modules/.bin/terser" "$work/in.js" --ecma 2020 --compress passes=3 --mangle 'reserved=[C,S]' \
  --mangle-props 'regex=/^_/' --format 'ascii_only=true' -o "$work/out.js"

JS_HEAD="$(head_of assent.js)" CSS_HEAD="$(head_of assent.css)" \
  PREFIX="$prefix" WORK="$work" DIR="$dir" node --input-type=module -e '
import {readFileSync, writeFileSync} from "node:fs";
const {JS_HEAD, CSS_HEAD, PREFIX, WORK, DIR} = process.env;
let js = readFileSync(WORK + "/out.js", "utf8").trim();
if (!js.startsWith(PREFIX) || !js.endsWith("};")) throw new Error("unexpected terser output shape: " + js.slice(0, 60));
js = js.slice(PREFIX.length, -2);
writeFileSync(DIR + "/assent.min.js", JS_HEAD + "\n" + js + "\n");

// CSS: drop comments, collapse whitespace, drop it around { } ; , > and after ":" (never before ":",
// which would turn ".a :focus" into ".a:focus"), drop the last ";" of a block. Nothing else is rewritten.
function minCss(name, head) {
  let css = readFileSync(DIR + "/" + name, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const [q] of css.matchAll(/"[^"\n]*"|\x27[^\x27\n]*\x27/g))
    if (/[{};,>:]|\/\*|\s\s/.test(q)) throw new Error(name + ": string " + q + " would be altered; extend the minifier");
  css = css.replace(/\s+/g, " ")
    .replace(/\s*([{};,>])\s*/g, "$1").replace(/:\s+/g, ":").replace(/\s+!important/g, "!important")
    .replace(/;}/g, "}").trim();
  writeFileSync(DIR + "/" + name.replace(/\.css$/, ".min.css"), head + "\n" + css + "\n");
}
minCss("assent.css", CSS_HEAD);
'
for f in assent.min.js assent.min.css; do
  echo "built $f: $(tail -n +2 "$dir/$f" | wc -c) B, $(tail -n +2 "$dir/$f" | gzip -9 | wc -c) B gzipped"
done
