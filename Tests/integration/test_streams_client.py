"""The test client's own parsing (no server): a stream test is only as good as the
client that reads the stream."""

import pytest

from sse_client import ChunkedDecoder, SSEParser, parse_cursor


def feed_all(parser, data, step=None):
    out = []
    if step is None:
        out += parser.feed(data)
    else:
        for i in range(0, len(data), step):
            out += parser.feed(data[i:i + step])
    return out


@pytest.mark.parametrize("step", [None, 1, 2, 3, 7])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_parser_frames_fields_and_line_ends(step, eol):
    text = eol.join([
        b"retry: 2731", b"",
        b"id: e7f3-1041", b"event: hello", b'data: {"cursor":"e7f3-1041"}', b"",
        b": a comment", b"",
        b"event: ping", b"data: {}", b"",
        b"data:no-space", b"data:  two spaces", b"", b"",
        b"id: e7f3-1042", b"event: create", b"data: {\"x\":1}", b"",
    ]) + eol
    p = SSEParser()
    evs = feed_all(p, text, step)
    assert [(e.event, e.id, e.data) for e in evs] == [
        ("hello", "e7f3-1041", '{"cursor":"e7f3-1041"}'),
        ("ping", None, "{}"),
        ("message", None, "no-space\n two spaces"),
        ("create", "e7f3-1042", '{"x":1}'),
    ]
    assert [e.last_event_id for e in evs] == ["e7f3-1041", "e7f3-1041", "e7f3-1041", "e7f3-1042"]
    assert p.retry == 2731 and p.retries == [2731]
    assert evs[0].retry == 2731
    assert p.anomalies == []


def test_parser_holds_an_incomplete_frame():
    p = SSEParser()
    assert p.feed(b"id: a-1\nevent: create\ndata: {}") == []
    assert p.feed(b"\n") == []
    (ev,) = p.feed(b"\n")
    assert (ev.event, ev.id) == ("create", "a-1")


def test_parser_records_odd_lines():
    p = SSEParser()
    p.feed(b"retry: soon\nbogus: 1\ndata: x\n\n")
    assert len(p.anomalies) == 2 and p.retry is None


@pytest.mark.parametrize("step", [None, 1, 5])
def test_chunked_decoder(step):
    body = b"5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n"
    d = ChunkedDecoder()
    out = b""
    if step is None:
        out = d.feed(body)
    else:
        for i in range(0, len(body), step):
            out += d.feed(body[i:i + step])
    assert out == b"hello " + b"x" * 16
    assert d.done


def test_cursor_parsing():
    assert parse_cursor("e7f3-1041") == ("e7f3", 1041)
    for bad in ("", "e7f3", "E7F3-1", "e7f3-", "-1", "xyz-1"):
        with pytest.raises(AssertionError):
            parse_cursor(bad)
