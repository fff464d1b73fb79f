#!/usr/bin/env bash
# Records the upstream fixture: real packuments and tarballs from the configured npm registry, plus two crafted
# packages. Run from this folder; needs npm, curl and python3. See README.md.
set -euo pipefail
cd "$(dirname "$0")"
registry=$(npm config get registry)
mkdir -p packuments tarballs
for name in is-number ms @scarf/scarf; do
  file=$(echo "$name" | sed 's#^@##; s#/#__#')
  curl -sf "${registry}$(echo "$name" | sed 's#/#%2f#')" | python3 -m json.tool --indent 1 > "packuments/$file.json"
done
(cd tarballs && npm pack is-number@7.0.0 ms@2.1.2 ms@2.1.3 @scarf/scarf@1.4.0 --silent)
# crossenv: the 2017 typosquat of cross-env, now the registry's security holding package. The registry's host in
# dist.tarball is replaced (the fixture serves tarballs itself; only the file name is used).
curl -sf "${registry}crossenv" | python3 -m json.tool --indent 1 \
  | sed -E 's#"tarball": "https?://[^/]+/#"tarball": "http://upstream.invalid/#' > packuments/crossenv.json
(cd tarballs && npm pack crossenv@0.0.2-security --silent)

# Crafted packages: tollgate-fixture-evil (1.0.1 is named by a MAL- record in advisories/) and @acme/secret
# (a name the test policy declares private; the upstream fixture has it to prove the feed never asks for it).
work=$(mktemp -d)
craft() { # name version
  dir="$work/$1-$2"; mkdir -p "$dir"
  printf '{"name":"%s","version":"%s","description":"Tollgate test fixture","main":"index.js","license":"MIT"}\n' "$1" "$2" > "$dir/package.json"
  printf 'module.exports = "%s@%s";\n' "$1" "$2" > "$dir/index.js"
  (cd tarballs && npm pack "$dir" --silent)
}
craft tollgate-fixture-evil 1.0.0
craft tollgate-fixture-evil 1.0.1
craft @acme/secret 1.0.0
python3 make_crafted_packuments.py
