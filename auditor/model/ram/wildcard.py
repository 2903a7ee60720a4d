"""`*` / `?` wildcard matching as RAM uses it for actions, resources and StringLike."""

from __future__ import annotations


def wildcard_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """True when `text` matches `pattern`, where `*` is any run of characters and `?` one.

    Greedy with a single backtrack point, so it runs in O(len(pattern) * len(text)) at worst
    and never recurses (a regex translation could blow up on patterns like `*a*a*a*b`).
    """
    if ignore_case:
        pattern = pattern.casefold()
        text = text.casefold()
    p = t = 0
    star_p = -1
    star_t = 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p = p
            star_t = t
            p += 1
        elif star_p >= 0:
            p = star_p + 1
            star_t += 1
            t = star_t
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
