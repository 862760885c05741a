"""Persistence: the account store, the bot's own tables, migrations and the data map.

Nothing in this package imports from `bot`, `handlers` or `workflow`.
"""
