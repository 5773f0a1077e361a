"""The relay: signed requests, the append-only envelope log, mailboxes, summaries and blobs."""
