#!/usr/bin/env bash
# Minifies the Assent banner:
#   crates/server/assets/banner/assent.js  -> assent.min.js   (terser, pinned in scripts/banner/package-lock.json)
#   crates/server/assets/banner/assent.css -> assent.min.css  (whitespace/comment-only minifier below)
# The first line of each output is `/*! <source name> src-sha256:<sha256 of the source file> */`, so a Rust
# test can check in CI, without npm, that the committed minified files are current.
# Needs node >= 18 and npm (the npm registry). node_modules goes to a temporary directory, never the tree.
# Usage: scripts/build-banner.sh            rebuild both files
#        scripts/build-banner.sh --check    exit 1 if a minified file's recorded hash is stale (no npm needed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/crates/server/assets/banner"
js_sha=$(sha256sum "$dir/assent.js" | cut -d' ' -f1)
css_sha=$(sha256sum "$dir/assent.css" | cut -d' ' -f1)
js_head="/*! assent.js src-sha256:$js_sha */"
css_head="/*! assent.css src-sha256:$css_sha */"

if [[ "${1:-}" == "--check" ]]; then
  status=0
  [[ "$(head -n1 "$dir/assent.min.js" 2>/dev/null)" == "$js_head" ]] || { echo "assent.min.js is stale: run scripts/build-banner.sh" >&2; status=1; }
  [[ "$(head -n1 "$dir/assent.min.css" 2>/dev/null)" == "$css_head" ]] || { echo "assent.min.css is stale: run scripts/build-banner.sh" >&2; status=1; }
  exit $status
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/scripts/banner/package.json" "$root/scripts/banner/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

# assent.js is the body of `function(C,S){...}`: wrap it in an assignment so terser keeps it whole,
# keep the names C and S, then cut the wrapper off again.
prefix='window.__assent=function(C,S){'
{ printf '%s' "$prefix"; cat "$dir/assent.js"; printf '\n};\n'; } >"$work/in.js"
"$work/node_modules/.bin/terser" "$work/in.js" --ecma 2020 --compress passes=2 --mangle 'reserved=[C,S]' \
  --format 'ascii_only=true' -o "$work/out.js"

JS_HEAD="$js_head" CSS_HEAD="$css_head" PREFIX="$prefix" WORK="$work" DIR="$dir" node --input-type=module -e '
import {readFileSync, writeFileSync} from "node:fs";
const {JS_HEAD, CSS_HEAD, PREFIX, WORK, DIR} = process.env;
let js = readFileSync(WORK + "/out.js", "utf8").trim();
if (!js.startsWith(PREFIX) || !js.endsWith("};")) throw new Error("unexpected terser output shape: " + js.slice(0, 60));
js = js.slice(PREFIX.length, -2);
writeFileSync(DIR + "/assent.min.js", JS_HEAD + "\n" + js + "\n");

// CSS: drop comments, collapse whitespace, drop it around { } ; , > and after ":" (never before ":",
// which would turn ".a :focus" into ".a:focus"), drop the last ";" of a block. Nothing else is rewritten.
let css = readFileSync(DIR + "/assent.css", "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
for (const [q] of css.matchAll(/"[^"\n]*"|\x27[^\x27\n]*\x27/g))
  if (/[{};,>:]|\/\*|\s\s/.test(q)) throw new Error("assent.css: string " + q + " would be altered; extend the minifier");
css = css.replace(/\s+/g, " ")
  .replace(/\s*([{};,>])\s*/g, "$1").replace(/:\s+/g, ":").replace(/\s+!important/g, "!important")
  .replace(/;}/g, "}").trim();
writeFileSync(DIR + "/assent.min.css", CSS_HEAD + "\n" + css + "\n");
'
echo "built $(wc -c <"$dir/assent.min.js") B assent.min.js, $(wc -c <"$dir/assent.min.css") B assent.min.css"
