"""The cloud as the auditor models it: pure Python, no I/O, no clock reads (callers pass `now`).

`cloud_state.CloudState` is the one object every layer shares: the fleet (`fleet/`), key pairs
(`keypairs/`), RAM (`ram/`) and instance roles. Security-group semantics live in `network/`."""
