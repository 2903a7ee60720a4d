"""The dashboard: server-rendered pages under /ui/ on the auditor's HTTP port, authorised by
the same RAM policies as the API."""
