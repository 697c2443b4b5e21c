"""`command-center simulate`: a demo city at work, driven through the public interfaces.

A CLIENT of the service, like the mini-program, a grid worker's app, a squad phone and
an OsmAnd tracker: it speaks only HTTP, the `/ws` websocket and the OsmAnd endpoint,
never the database or the services (an import contract in pyproject.toml keeps it so).
"""
