"""What a desk search means: the words an operator types, turned into terms.

No I/O: the repository turns the terms into SQL. A search matches a clue when any of
the three holds — the public code, the reporter's phone ending, or every word found in
the description or the address (case-insensitive, substrings, so that Chinese text,
which has no spaces between words, matches by any run of its characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 100
MAX_WORDS = 8
PHONE_ENDING = re.compile(r"(?:\d{3})?\**(\d{4})")  # 8000, ****8000, 138****8000
CODE = re.compile(r"[0-9A-Za-z-]{6,40}")


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """`code`: a whole public code to match exactly; `phone_ending`: four digits matched
    against the last four of the reporter's phone; `words`: each must occur."""

    code: str | None
    phone_ending: str | None
    words: tuple[str, ...]


def parse(query: str) -> SearchTerms:
    """Terms of a search box's text. Raises ValueError for an empty or too long one."""
    query = query.strip()
    if not query:
        raise ValueError("the search text is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"the search text is longer than {MAX_QUERY_CHARS} characters")
    words = tuple(dict.fromkeys(query.split()))[:MAX_WORDS]
    single = words[0] if len(words) == 1 else None
    phone = PHONE_ENDING.fullmatch(single) if single else None
    return SearchTerms(
        code=single if single and CODE.fullmatch(single) else None,
        phone_ending=phone.group(1) if phone else None,
        words=words,
    )


def like_pattern(word: str) -> str:
    """`%word%` for ILIKE, with the pattern's own characters escaped (`\\` is the escape)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
