#!/usr/bin/env bash
# Reproduces the page folder of the docs-question evaluation set (data/eval/debian-handbook/):
# the English HTML of the Debian Administrator's Handbook from a pinned .deb, checked by SHA-256,
# then checks the question set against it. Evaluation only: never give these pages or questions to
# training or tuning (data/eval/debian-handbook/PROVENANCE.md).
#
#   bash scripts/fetch-eval-manual.sh [OUT_DIR]   # pages into OUT_DIR (default data/eval/debian-handbook/pages)
#   bash scripts/fetch-eval-manual.sh --derive    # rewrite queries.jsonl and qrels.tsv from questions.jsonl
#
# Needs apt-get (a Debian source list that carries the version) or curl, dpkg-deb, and node.
# No root needed.
set -euo pipefail

PKG=debian-handbook
VERSION=11.20220922
DEB="${PKG}_${VERSION}_all.deb"
SHA256=3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa
# Where the .deb can be had if the configured mirrors no longer carry this version: the pool (while
# bookworm holds it), then snapshot.debian.org by the file's SHA-1 (it keeps every file ever uploaded;
# that address was not reachable from the machine this was written on, so it is untested).
URLS=(
  "https://deb.debian.org/debian/pool/main/d/debian-handbook/${DEB}"
  "https://snapshot.debian.org/file/5ee1e8936b0f0220b2e6074fc8bb8efc6515e318"
)
PAGES=127 # HTML pages of en-US/ in this version (index.html included)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
set_dir="$repo_root/data/eval/debian-handbook"

# questions.jsonl is the source; queries.jsonl ({"id","text"}) and qrels.tsv (TREC "qid 0 docid 1",
# docid = the page's path relative to the page folder, which is the id the indexer gives a page)
# are derived from it for `hypencoder-web eval`. Mode "write" rewrites them, "check" compares them
# and, given a page folder, checks every answer page is in it.
derive() {
  node - "$set_dir" "$1" "${2:-}" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [dir, mode, pages] = process.argv.slice(2);
const src = path.join(dir, 'questions.jsonl');
const fail = (msg) => { console.error(`fetch-eval-manual: ${msg}`); process.exit(1); };
const have = pages ? new Set(fs.readdirSync(pages)) : null;
const ids = new Set();
let queries = '';
let qrels = '';
fs.readFileSync(src, 'utf8').split('\n').forEach((line, i) => {
  if (line.trim() === '') return;
  const at = `${src}:${i + 1}`;
  let q;
  try { q = JSON.parse(line); } catch (e) { fail(`${at}: not valid JSON (${e.message})`); }
  for (const k of ['id', 'question', 'note'])
    if (typeof q[k] !== 'string' || q[k] === '') fail(`${at}: "${k}" must be a non-empty string`);
  if (!Array.isArray(q.answer_pages) || q.answer_pages.length === 0) fail(`${at}: "answer_pages" must be a non-empty list`);
  if (ids.has(q.id)) fail(`${at}: duplicate id ${q.id}`);
  ids.add(q.id);
  queries += `${JSON.stringify({ id: q.id, text: q.question })}\n`;
  for (const p of q.answer_pages) {
    if (typeof p !== 'string' || /\s/.test(p)) fail(`${at}: answer page ${JSON.stringify(p)} is not a path without spaces`);
    if (have && !have.has(p)) fail(`${at}: answer page ${p} is not in ${pages}`);
    qrels += `${q.id} 0 ${p} 1\n`;
  }
});
const out = { 'queries.jsonl': queries, 'qrels.tsv': qrels };
for (const [name, text] of Object.entries(out)) {
  const file = path.join(dir, name);
  if (mode === 'write') fs.writeFileSync(file, text);
  else if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text)
    fail(`${file} does not match ${src}; rerun with --derive`);
}
console.log(`fetch-eval-manual: ${ids.size} questions, ${qrels.split('\n').length - 1} judgments${have ? `, every answer page present in ${pages}` : ''}`);
JS
}

if [ "${1:-}" = "--derive" ]; then
  derive write
  exit 0
fi

out="$(realpath -m "${1:-$set_dir/pages}")" # absolute: the work below runs in a temporary folder
# OUT_DIR is replaced whole, so refuse one that holds anything but pages (a typo must not wipe a folder).
if [ -e "$out" ] && [ -n "$(find "$out" -mindepth 1 ! -name '*.html' -print -quit)" ]; then
  echo "fetch-eval-manual: $out holds files other than .html pages; give an empty or new folder" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
if ! apt-get download "${PKG}=${VERSION}" >/dev/null 2>&1; then
  for url in "${URLS[@]}"; do
    curl -fsSL -o "$DEB" "$url" && break || rm -f "$DEB"
  done
fi
[ -f "$DEB" ] || { echo "fetch-eval-manual: could not download $DEB (apt-get download ${PKG}=${VERSION}, or: ${URLS[*]})" >&2; exit 1; }
got="$(sha256sum "$DEB" | cut -d' ' -f1)"
[ "$got" = "$SHA256" ] || { echo "fetch-eval-manual: $DEB has SHA-256 $got, expected $SHA256" >&2; exit 1; }

dpkg-deb -x "$DEB" root
src=root/usr/share/doc/debian-handbook/html/en-US
# Only the pages: the site's images and CSS are not text, and the indexer skips them anyway.
rm -rf "$out"
mkdir -p "$out"
find "$src" -maxdepth 1 -type f -name '*.html' -exec cp {} "$out"/ \;
n="$(find "$out" -type f -name '*.html' | wc -l)"
[ "$n" -eq "$PAGES" ] || { echo "fetch-eval-manual: $n pages in $out, expected $PAGES" >&2; exit 1; }
echo "fetch-eval-manual: $n pages of $PKG $VERSION (en-US) in $out"
derive check "$out"
