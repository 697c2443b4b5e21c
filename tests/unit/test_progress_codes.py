"""The rule of progress codes (issue 15, finding 3): random, unambiguous, checked."""

from __future__ import annotations

import secrets

import pytest

from command_center.residents.model import (
    ALPHABET,
    BODY_LENGTH,
    check_character,
    grouped,
    is_well_formed,
    normalise,
)


def random_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def test_the_alphabet_has_no_look_alikes() -> None:
    assert len(ALPHABET) == 31 and not set("01ILO") & set(ALPHABET)


def test_a_code_is_twelve_characters_and_well_formed() -> None:
    code = random_code()
    assert len(code) == 12 and is_well_formed(code)


def test_every_single_mistyped_character_is_caught() -> None:
    code = random_code()
    for position in range(len(code)):
        for wrong in ALPHABET:
            if wrong != code[position]:
                typo = code[:position] + wrong + code[position + 1 :]
                assert not is_well_formed(typo), (code, typo)


def test_every_swap_of_two_characters_is_caught() -> None:
    code = random_code()
    for i in range(len(code)):
        for j in range(i + 1, len(code)):
            if code[i] != code[j]:
                swapped = list(code)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not is_well_formed("".join(swapped))


def test_what_people_type_is_normalised_and_the_old_codes_are_not_well_formed() -> None:
    code = random_code()
    assert normalise(f" {grouped(code).lower()} ") == code
    assert grouped(code).count("-") == 2
    assert not is_well_formed("20261203000001")


def test_a_body_outside_the_alphabet_has_no_check_character() -> None:
    with pytest.raises(ValueError, match="11 characters"):
        check_character("0" * BODY_LENGTH)
