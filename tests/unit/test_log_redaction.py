"""Log lines never carry tokens or residents' personal data, whoever logs them."""

import io
import logging
from collections.abc import Iterator

import pytest

from command_center.logs import install_redaction


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    install_redaction()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("some.library.deep.down")  # not one of ours
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, out
    logger.removeHandler(handler)


def test_an_access_line_masks_tokens_and_contact_fields(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    path = "/ws?token=eyJhbGciOi.secret&after=3&phone=13905710001&first_name=%E6%99%93"
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    line = out.getvalue()
    assert "eyJhbGciOi" not in line and "13905710001" not in line and "%E6%99%93" not in line
    assert "token=***&after=3&phone=***&first_name=***" in line


def test_a_mobile_number_keeps_only_its_ends_but_other_numbers_stay(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.warning("call back %s about 20261123000012 (event 13905710001234)", "13905710001")
    assert out.getvalue().strip() == (
        "call back 139****0001 about 20261123000012 (event 13905710001234)"
    )


def test_a_traceback_does_not_echo_the_failing_row(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    try:
        raise RuntimeError(
            'new row for relation "clues" violates check constraint\n'
            "DETAIL:  Failing row contains (42, 欧阳晓梅, 13905710001)."
        )
    except RuntimeError:
        logger.exception("unhandled error")
    text = out.getvalue()
    assert "Traceback" in text and "violates check constraint" in text
    assert "欧阳晓梅" not in text and "0571" not in text
    assert "Failing row contains (withheld)" in text
