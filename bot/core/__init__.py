"""The pure core: question bank model, loader and validator, quiz engine, review and statistics.

Nothing here imports `telegram` or talks to a database: adapters and storage depend on the core, never the
other way round, so the rules can be tested with plain values.
"""
