"""Which rules decide for which sources, port segment by port segment: the core of exposure
reports over a whole fleet.

Sources are not addresses but *classes* of addresses that no rule of the rule set tells apart
(a piece between CIDR boundaries, or the member IPs that share the same authorised groups).
A set of sources is then a bitmask over the classes, and "what stronger rules left over" is
one `&` per rule instead of an interval intersection over thousands of member IPs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence

from palisade.auditor.model.network import ipv4

PORT_MAX = 65535


# A rule as the sweep sees it: (port_lo, port_hi, the bitmask of source classes it matches,
# accepts?, the caller's key for it: the rule's index in the NIC's rule set). Plain tuples:
# a fleet builds hundreds of thousands of them.
SweepRule = tuple[int, int, int, bool, int]

Segment = tuple[int, int, tuple[tuple[int, int], ...]]


def deciding_rules(ordered: Sequence[SweepRule], everyone: int) -> list[Segment]:
    """Port ranges [lo, hi] covering 0..65535, each with the accept rules of `ordered` (rules in
    decision order) that decide for some of `everyone` there, as (key, classes it decides for).

    A sweep over the ports keeps the rules covering the current range in decision order and
    walks them until no source is left undecided. Ranges are cut only where a rule matching
    some source starts or ends, and neighbours with the same answer are joined: the result is
    coarser than `engine.PortTable`'s segments but joins only segments that
    have the same deciding rules. When every change at a cut comes after the rule that
    settled the last source, the answer cannot change and the walk is skipped; rules after
    one that matches every source on every port are never looked at."""
    opens = []
    closes = []
    for pos, (lo, hi, sources, _, _) in enumerate(ordered):
        if lo == 0 and hi >= PORT_MAX and sources & everyone == everyone:
            # Decides for every source on every port: no rule after it ever decides.
            opens.append((lo, pos))
            break
        if sources & everyone:
            opens.append((lo, pos))
            if hi < PORT_MAX:
                closes.append((hi + 1, pos))
    opens.sort()
    closes.sort()
    starts = sorted({0, *(p for p, _ in opens), *(p for p, _ in closes)})
    n_open, n_close = len(opens), len(closes)
    k = j = 0
    active: list[int] = []  # positions in `ordered` of the rules covering the range, sorted
    starts_out: list[int] = []
    answers: list[tuple[tuple[int, int], ...]] = []
    settled_at = -1  # position of the rule that left no source undecided (-1: none)
    never = len(ordered)
    for lo in starts:
        first_change = never
        while j < n_close and closes[j][0] <= lo:
            pos = closes[j][1]
            del active[bisect_left(active, pos)]
            if pos < first_change:
                first_change = pos
            j += 1
        while k < n_open and opens[k][0] <= lo:
            pos = opens[k][1]
            insort(active, pos)
            if pos < first_change:
                first_change = pos
            k += 1
        if 0 <= settled_at < first_change:
            continue  # nothing changed before the settling rule: same answer
        left = everyone
        hits = []
        settled_at = -1
        for pos in active:
            _, _, sources, accept, key = ordered[pos]
            hit = sources & left
            if hit:
                if accept:
                    hits.append((key, hit))
                left ^= hit
                if not left:
                    settled_at = pos
                    break
        answer = tuple(hits)
        if answers and answer == answers[-1]:
            continue  # same answer as the range before: extend it
        starts_out.append(lo)
        answers.append(answer)
    ends = [s - 1 for s in starts_out[1:]] + [PORT_MAX]
    return list(zip(starts_out, ends, answers, strict=True))


def bits(mask: int) -> list[int]:
    """Positions of the set bits of `mask`, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def span_mask(i: int, j: int) -> int:
    """Bits i..j-1."""
    return ((1 << (j - i)) - 1) << i if j > i else 0


class AddressPieces:
    """Source classes for a contiguous address space (the internet): the pieces of `space`
    (merged intervals) that no boundary of `blocks` splits. Every block handed to `mask` later
    must be one of `blocks` (or a union of pieces)."""

    def __init__(self, space: list[ipv4.Interval], blocks: Iterable[ipv4.Interval]) -> None:
        cuts: set[int] = set()
        for lo, hi in space:
            cuts.update((lo, hi + 1))
        for lo, hi in blocks:
            cuts.update((lo, hi + 1))
        self.starts = sorted(cuts)
        self.everyone = 0
        for lo, hi in space:
            self.everyone |= self._span(lo, hi)

    def _span(self, lo: int, hi: int) -> int:
        return span_mask(bisect_left(self.starts, lo), bisect_left(self.starts, hi + 1))

    def mask(self, blocks: Iterable[ipv4.Interval]) -> int:
        m = 0
        for lo, hi in blocks:
            m |= self._span(lo, hi)
        return m & self.everyone


class MemberClasses:
    """Source classes for scattered addresses (group members' private IPs): addresses in the
    same piece between `cuts` (the bounds of the CIDR rules) with the same `tags` (bits of the
    authorised groups they are members of) form one class. Each class keeps the OR of its
    addresses' `labels` (the groups to report them under) and how many addresses it has.

    `batches` holds (sorted addresses, tags, labels) with one tags/labels value per batch.
    Classes are numbered in address order, so the classes inside a CIDR are a run of bits."""

    def __init__(self, cuts: list[int], batches: Iterable[tuple[Sequence[int], int, int]]) -> None:
        self.cuts = cuts  # sorted; every block later passed to `cidr_mask` has lo and hi+1 here
        acc: dict[tuple[int, int], list[int]] = {}  # (piece, tags) -> [labels, size]
        for addresses, tags, labels in batches:
            start = 0
            while start < len(addresses):
                piece = bisect_right(cuts, addresses[start])
                # Every address below the next cut is in the same piece.
                stop = (
                    bisect_left(addresses, cuts[piece], start)
                    if piece < len(cuts)
                    else len(addresses)
                )
                slot = acc.setdefault((piece, tags), [0, 0])
                slot[0] |= labels
                slot[1] += stop - start
                start = stop
        keys = sorted(acc)
        self._class = {k: c for c, k in enumerate(keys)}
        self._pieces = [piece for piece, _ in keys]
        self.labels = [acc[k][0] for k in keys]
        self.sizes = [acc[k][1] for k in keys]
        self.everyone = (1 << len(keys)) - 1
        self._tag_masks: dict[int, int] = {}
        for c, (_, tags) in enumerate(keys):
            for t in bits(tags):
                self._tag_masks[t] = self._tag_masks.get(t, 0) | 1 << c

    def __len__(self) -> int:
        return len(self.labels)

    def class_of(self, address: int, tags: int) -> int | None:
        return self._class.get((bisect_right(self.cuts, address), tags))

    def cidr_mask(self, lo: int, hi: int) -> int:
        """Classes inside the block [lo, hi]."""
        a, b = bisect_right(self.cuts, lo), bisect_right(self.cuts, hi)
        return span_mask(bisect_left(self._pieces, a), bisect_right(self._pieces, b))

    def tag_mask(self, tag_bit: int) -> int:
        """Classes whose addresses carry the tag."""
        return self._tag_masks.get(tag_bit, 0)
