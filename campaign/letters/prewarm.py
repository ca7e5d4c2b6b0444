"""Imported only by the render forkserver (isolation.PRELOAD), never by the app.

Importing it loads WeasyPrint and renders a made-up letter (warm_up.py), so fontconfig, Pango and
the bundled fonts are ready before the forkserver forks a child for each letter. Then
gc.freeze() moves everything loaded so far out of the garbage collector's sight: a
child's collections no longer walk (and so copy, page by page) the inherited objects.
"""

import gc

try:
    from .warm_up import warm_up

    warm_up()
except Exception:  # noqa: BLE001, S110  (a cold start is slower, not wrong)
    pass
gc.freeze()
