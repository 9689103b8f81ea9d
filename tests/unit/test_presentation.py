"""marketplace.presentation: how the pages write sizes."""

import pytest

from marketplace.presentation import filesize


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1.0 KB"),
        (12_634, "12.3 KB"),
        (1024 * 1024 - 1, "1.0 MB"),
        (1024 * 1023, "1023.0 KB"),
        (1024 * 1024, "1.0 MB"),
        (10 * 1024 * 1024, "10.0 MB"),
    ],
)
def test_file_sizes_read_as_people_read_them(size, shown):
    assert filesize(size) == shown
