"""The composition root: the auditor process (`serve`), the local stack of `make run`
(`local_stack`), the check runner, and the data directory they share."""
