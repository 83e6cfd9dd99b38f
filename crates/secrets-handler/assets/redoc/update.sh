#!/usr/bin/env bash
# The API reference's renderer, Redoc, vendored from the npm registry so that `secrets-server` serves it from its
# own binary (nothing is fetched from a CDN at run time). VERSION pins it.
#   update.sh          fetch the pinned version's standalone bundle and licences into this folder
#   update.sh --check  fail unless the committed files are byte for byte the pinned package's (CI runs this)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/VERSION")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# `npm pack` checks the tarball against the registry's integrity hash.
(cd "$work" && npm pack "redoc@$version" --silent --loglevel=error >/dev/null && tar xzf "redoc-$version.tgz")
files=(bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE)
for file in "${files[@]}"; do
  name=$(basename "$file")
  if [[ "${1:-}" == "--check" ]]; then
    cmp -s "$work/package/$file" "$here/$name" || { echo "error: $name is not redoc@$version's $file; run $0" >&2; exit 1; }
  else
    cp "$work/package/$file" "$here/$name"
  fi
done
echo "redoc@$version: ${files[*]} $([[ "${1:-}" == "--check" ]] && echo match || echo written)"
