"""Serves the console from a platform under test until `create_app` installs it itself.

The UI tests put this directory on PYTHONPATH. When the edge's `create_app` does not
call `console.install(app)` yet, the placeholder page at `/` becomes the console's shell
and the console's sinks are added; once it does, this changes nothing.
"""

import os

if os.environ.get("KLAXON_CONSOLE_SHIM") == "1":
    import edge.app as _edge_app
    from edge.resources import console as _console
    from edge.resources import system as _system

    _original = _edge_app.create_app

    def _create_app(*args, **kwargs):
        assets = _console.Assets()
        _system.Index = lambda: _console.Shell(assets)
        app = _original(*args, **kwargs)
        if not any(isinstance(sink, _console.StaticFiles) for _, sink, _ in app._sinks):
            app.add_sink(_console.Shell(assets), _console.PAGE_PATTERN)
            app.add_sink(_console.StaticFiles(assets), _console.ASSET_PATTERN)
        return app

    _edge_app.create_app = _create_app
