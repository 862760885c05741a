"""Accountability figures (GDPR Art. 5(2)): how the company answers privacy requests.

SQL aggregates only (GROUP BY in the database, never a row per request in Python), for
a chosen period, shared by the console's overview page and `privacybot report`.
"""
