"""Every test checks every cloud-state write it makes: with PALISADE_VERIFY_CHANGES=1 the live
state (auditor/store/live_state.py) compares the whole state in memory with the rows after each
write, so a model change that did not touch its unit fails the test that made it. Auditor
processes the tests start inherit it."""

import os

os.environ.setdefault("PALISADE_VERIFY_CHANGES", "1")
