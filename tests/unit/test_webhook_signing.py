import pytest

from marketplace.webhooks.signing import BadSignature, new_secret, signature_header, verify


def test_a_signed_body_verifies_and_gives_its_timestamp():
    secret = new_secret()
    header = signature_header(secret, b'{"a": 1}', timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(secret, b'{"a": 1}', header, now=1_700_000_010) == 1_700_000_000


@pytest.mark.parametrize(
    "change",
    [
        lambda secret, body, header: (new_secret(), body, header),  # another secret
        lambda secret, body, header: (secret, body + b" ", header),  # the body changed
        lambda secret, body, header: (secret, body, header.replace("t=1700000000", "t=1700000001")),  # re-dated
        lambda secret, body, header: (secret, body, "v1=" + header.split("v1=")[1]),  # no timestamp
        lambda secret, body, header: (secret, body, "t=1700000000"),  # no signature
    ],
)
def test_anything_changed_is_refused(change):
    secret, body = new_secret(), b'{"event": "x"}'
    header = signature_header(secret, body, timestamp=1_700_000_000)
    with pytest.raises(BadSignature):
        verify(*change(secret, body, header), now=1_700_000_000)


def test_an_old_call_is_refused_as_a_replay():
    secret = new_secret()
    header = signature_header(secret, b"{}", timestamp=1_700_000_000)
    with pytest.raises(BadSignature, match="tolerance"):
        verify(secret, b"{}", header, now=1_700_000_000 + 301)
