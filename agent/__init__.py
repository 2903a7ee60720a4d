"""Palisade agent: reports what is really on a host."""
