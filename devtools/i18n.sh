#!/usr/bin/env bash
# Re-extract every translatable string and merge it into the vi and en catalogs (then translate the new vi entries).
set -euo pipefail
cd "$(dirname "$0")/.."
B=.venv/bin/pybabel
$B extract -F babel.cfg -k _l -k N_ -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output \
  --project "Clip Contest Portal" --copyright-holder "Clip Contest Portal" .
for lang in vi en; do
  if [ -f app/translations/$lang/LC_MESSAGES/messages.po ]; then
    $B update -i app/translations/messages.pot -d app/translations -l $lang --no-fuzzy-matching
  else
    $B init -i app/translations/messages.pot -d app/translations -l $lang
  fi
done
# English is the source language: its catalog maps each message to itself.
.venv/bin/python devtools/fill_en.py app/translations/en/LC_MESSAGES/messages.po
