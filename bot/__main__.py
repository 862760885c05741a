"""`python -m bot` is the same as `privacybot`."""

from bot.cli import main

main()
