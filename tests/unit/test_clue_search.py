"""What a desk search box's text means (clues/search.py)."""

import pytest

from command_center.clues.search import like_pattern, parse


def test_a_code_a_phone_ending_and_words_are_told_apart() -> None:
    code = parse(" 20261203000012 ")
    assert (code.code, code.phone_ending, code.words) == (
        "20261203000012",
        None,
        ("20261203000012",),
    )
    for ending in ("8000", "****8000", "138****8000"):
        assert parse(ending).phone_ending == "8000"
    words = parse("垃圾 中山街 垃圾")
    assert (words.code, words.phone_ending, words.words) == (None, None, ("垃圾", "中山街"))


def test_empty_or_too_long_text_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse("   ")
    with pytest.raises(ValueError, match="longer than 100"):
        parse("字" * 101)


def test_like_characters_are_escaped() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
