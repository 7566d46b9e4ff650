"""``blindpairs report``: one static HTML page of everything a workspace holds.

``gather`` and ``evaluations`` read the other stages' files (through
``blindpairs.schemas`` and ``Workspace`` paths, the leaderboard file included),
``svg`` and the figure modules draw inline SVG in Python, ``thumbs`` writes image
thumbnails, ``mining_sections``, ``eval_sections`` and ``page`` build the HTML
(every text from data escaped), and ``stage`` writes ``<ws>/reports/`` atomically
and skips when nothing changed (``freshness``).
"""
