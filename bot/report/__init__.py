"""The DPO's figures as charts, tables and documents: the console's overview page and
`privacybot report` (HTML, PDF, JSON, CSV) show the same sections built here."""
