"""Spreading a contest: share panel (link, QR, embed), link previews, banner, news, materials, public gallery.

Routes live in the audience blueprints (`public/outreach.py`, `organisers/outreach_routes.py`); state changes in
`services/news.py`, `services/materials.py` and `services/showcase.py`; this package holds the file and image helpers.
"""
