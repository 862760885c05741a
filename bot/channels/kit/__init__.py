"""What every chat channel shares, so each rule has one owner.

- `dedup`: a delivery (Slack event, Telegram update) is claimed in the transaction that
  does its work, so it is handled exactly once and a crash loses nothing;
- `words`: the channel's own sentences (the apology, "too long", "no longer open") in
  the customer's language;
- `text`: what a platform's text becomes before the router sees it (lone surrogates,
  the length limit);
- `buttons`: whether a pressed button is one the bot still offers;
- `senders`: registering a channel's notification sender and draining its work at
  shutdown.
"""
