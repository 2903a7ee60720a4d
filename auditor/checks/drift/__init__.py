"""The cloud changed what Palisade had modelled (`palisade sync --watch`)."""
