"""`palisade`, the auditor's command line: one module per command family; `main` assembles them."""
