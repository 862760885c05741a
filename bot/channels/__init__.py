"""Channel adapters: each verifies its inbound requests and speaks `Incoming`/`Reply`."""
