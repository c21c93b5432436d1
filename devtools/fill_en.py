"""Fill the English catalog with the source strings (so it is complete and plural forms are right)."""

import sys

from babel.messages.pofile import read_po, write_po

path = sys.argv[1]
with open(path, "rb") as fh:
    catalog = read_po(fh)
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple):
        message.string = tuple(message.id[i if i < len(message.id) else -1] for i in range(catalog.num_plurals))
    else:
        message.string = message.id
with open(path, "wb") as fh:
    write_po(fh, catalog, width=120, omit_header=False)
