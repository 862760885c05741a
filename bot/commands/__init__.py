"""Command modules of the `privacybot` CLI; the main group (`bot.cli`) loads each lazily.

Shared helpers live in `bot.commands.common`; a command module imports its heavy
dependencies inside its functions, so listing or loading commands stays cheap.
"""
