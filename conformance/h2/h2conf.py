#!/usr/bin/python3
"""h2conf: HTTP/2 conformance cases against a live server, one fresh connection per case.

The case list follows h2spec's sections (generic, http2 3.5-8.2, hpack 2.3-6.3); the expected behaviours come
from RFC 9113 (which obsoletes RFC 7540: where 9113 relaxed a rule, 9113 is followed) and RFC 7541 (HPACK).
Frames are built with hyperframe and HPACK blocks with hpack (Debian: python3-hyperframe, python3-hpack); the flow/
cases use python3-h2 as a complete client;
frames a conforming library refuses to build (bad lengths, bad padding, bad HPACK) are written as raw bytes.

Two profiles:
  request  an HTTP/2 server of ordinary requests (prior knowledge or TLS): GET/HEAD/POST; the Ambit waypoint
  connect  an HTTP/2 server of CONNECT tunnels (RFC 9113 8.5): HBONE; a "request" is CONNECT to --connect-target,
           an echo server, and a "response body" is the echo of what the client writes into the tunnel

Every read is bounded (--timeout per wait); a case that hangs fails. Output, one line per case:
  RESULT<TAB>id<TAB>PASS|FAIL<TAB>title<TAB>expected<TAB>observed
and a last line "SUMMARY passed=N failed=M". Exit status 0 only when every case passed; 2 on a usage error.

Verdicts, as h2spec has them: a connection error passes on GOAWAY with an expected code (or, only where the
case says so, a close without GOAWAY); a stream error passes on RST_STREAM with an expected code on that stream
or on a connection error with an expected code; "ignored" passes when the connection still answers a PING.
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import time

import hpack
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERRORS = {
    0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT",
    5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL", 9: "COMPRESSION_ERROR",
    10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM", 12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED",
}
CODE = {v: k for k, v in ERRORS.items()}
T_DATA, T_HEADERS, T_PRIORITY, T_RST, T_SETTINGS, T_PUSH, T_PING, T_GOAWAY, T_WINDOW, T_CONT = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT, S_INITIAL_WINDOW, S_MAX_FRAME, S_MAX_HEADER_LIST = range(1, 7)
HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
MAX_FRAMES_PER_WAIT = 10_000  # every wait loop is bounded by count as well as by time


class Closed(Exception):
    """The server closed the connection (FIN or reset)."""


class Timeout(Exception):
    """Nothing (or not the awaited frame) within the case's timeout."""


class Failure(Exception):
    """The case's expectation was not met; the message is what was observed."""


# ---------------------------------------------------------------- frames and HPACK


def raw(ftype, flags, stream, payload=b""):
    """One frame as bytes, whatever its contents (for frames hyperframe will not build)."""
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, stream & 0xFFFFFFFF) + payload


def hp_int(value, prefix_bits, first_byte_flags):
    """An HPACK integer (RFC 7541 5.1) with its first byte's high bits set to first_byte_flags."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hp_str(text, huffman=False):
    data = text.encode() if isinstance(text, str) else text
    if huffman:
        data = HUFFMAN.encode(data)
        return hp_int(len(data), 7, 0x80) + data
    return hp_int(len(data), 7, 0x00) + data


def lit(name, value):
    """A literal field without indexing, new name, no Huffman: leaves both dynamic tables untouched."""
    return b"\x00" + hp_str(name) + hp_str(value)


def block(fields):
    return b"".join(lit(n, v) for n, v in fields)


def settings_payload(pairs):
    return b"".join(struct.pack(">HI", k, v) for k, v in pairs)


def describe(frame):
    name = type(frame).__name__.replace("Frame", "").upper()
    if isinstance(frame, RstStreamFrame):
        return "RST_STREAM(stream %d, %s)" % (frame.stream_id, ERRORS.get(frame.error_code, frame.error_code))
    if isinstance(frame, GoAwayFrame):
        return "GOAWAY(last %d, %s%s)" % (
            frame.last_stream_id, ERRORS.get(frame.error_code, frame.error_code),
            ", " + frame.additional_data[:80].decode("latin-1") if frame.additional_data else "")
    if isinstance(frame, (DataFrame,)):
        return "DATA(stream %d, %d bytes%s)" % (
            frame.stream_id, len(frame.data), ", END_STREAM" if "END_STREAM" in frame.flags else "")
    if isinstance(frame, SettingsFrame):
        return "SETTINGS(%s)" % ("ACK" if "ACK" in frame.flags else frame.settings)
    return "%s(stream %d)" % (name, frame.stream_id)


# ---------------------------------------------------------------- one connection


OPEN = []  # connections of the running case, closed when it ends


class Conn:
    def __init__(self, opts):
        self.opts = opts
        sock = socket.create_connection((opts.host, opts.port), timeout=opts.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts.tls:
            sock = tls_context(opts).wrap_socket(sock, server_hostname=None)
        self.sock = sock
        self.buf = b""
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.encoder = hpack.Encoder()
        self.server_settings = {}
        self.next_stream = 1
        self.seen = []  # what the server sent, for the report
        OPEN.append(self)

    # writing

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as e:
            raise Closed("while sending: %s" % e) from None

    def send_oversized(self, data, chunk=16384):
        """Sends a frame larger than the peer accepts, in pieces, stopping (without failing) once the peer has
        closed: it may refuse the frame from its header alone, and its answer is read afterwards."""
        for i in range(0, len(data), chunk):
            try:
                self.sock.sendall(data[i:i + chunk])
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                return

    def send_frame(self, frame):
        self.send(frame.serialize())

    def new_stream(self):
        sid = self.next_stream
        self.next_stream += 2
        return sid

    def headers(self, sid, fields, end_stream=True, end_headers=True, encoded=None, **kw):
        f = HeadersFrame(sid)
        f.data = encoded if encoded is not None else self.encoder.encode(fields, huffman=False)
        if end_stream:
            f.flags.add("END_STREAM")
        if end_headers:
            f.flags.add("END_HEADERS")
        for k, v in kw.items():
            setattr(f, k, v)
        if "pad_length" in kw:
            f.flags.add("PADDED")
        if "depends_on" in kw or "stream_weight" in kw:
            f.flags.add("PRIORITY")
        self.send_frame(f)

    def data(self, sid, payload, end_stream=False, pad_length=None):
        f = DataFrame(sid, payload)
        if end_stream:
            f.flags.add("END_STREAM")
        if pad_length is not None:
            f.pad_length = pad_length
            f.flags.add("PADDED")
        self.send_frame(f)

    def settings(self, pairs=(), ack=False):
        self.send(raw(T_SETTINGS, ACK if ack else 0, 0, settings_payload(pairs)))

    def ping(self, payload=b"h2conf!!", ack=False):
        self.send(raw(T_PING, ACK if ack else 0, 0, payload))

    # reading

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout() from None
            except (ConnectionResetError, ssl.SSLError, OSError) as e:
                raise Closed(str(e)) from None
            if not chunk:
                raise Closed("FIN")
            self.buf += chunk

    def read_raw(self, deadline):
        """(type, flags, stream, payload) of the next frame."""
        self._fill(9, deadline)
        length = (self.buf[0] << 16) | (self.buf[1] << 8) | self.buf[2]
        self._fill(9 + length, deadline)
        head, payload = self.buf[:9], self.buf[9:9 + length]
        self.buf = self.buf[9 + length:]
        return head, payload

    def read_frame(self, deadline):
        head, payload = self.read_raw(deadline)
        frame, _ = Frame.parse_frame_header(memoryview(head))
        frame.parse_body(memoryview(payload))
        if isinstance(frame, HeadersFrame) or isinstance(frame, ContinuationFrame):
            block_data = frame.data
            while "END_HEADERS" not in frame.flags:
                head, payload = self.read_raw(deadline)
                frame2, _ = Frame.parse_frame_header(memoryview(head))
                frame2.parse_body(memoryview(payload))
                block_data += frame2.data
                frame.flags.update(f for f in frame2.flags if f == "END_HEADERS")
            frame.decoded = self.decoder.decode(block_data, raw=False)
        elif isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
            self.server_settings.update(frame.settings)
        self.seen.append(describe(frame))
        return frame

    def frames(self, timeout=None):
        """Frames until the timeout; raises Closed, or Timeout when the time is up."""
        deadline = time.monotonic() + (timeout or self.opts.timeout)
        for _ in range(MAX_FRAMES_PER_WAIT):
            yield self.read_frame(deadline)
        raise Failure("more than %d frames without the expected one" % MAX_FRAMES_PER_WAIT)

    def handshake(self, pairs=()):
        """Preface and SETTINGS both ways, each SETTINGS acknowledged (RFC 9113 3.4)."""
        self.send(PREFACE)
        self.settings(pairs)
        got_settings = got_ack = False
        try:
            for f in self.frames():
                if isinstance(f, SettingsFrame):
                    if "ACK" in f.flags:
                        got_ack = True
                    else:
                        got_settings = True
                        self.settings(ack=True)
                if got_settings and got_ack:
                    return
        except Timeout:
            raise Failure("handshake: no %s within %.1fs; got %s" % (
                "SETTINGS" if not got_settings else "SETTINGS ACK", self.opts.timeout, self.seen)) from None
        except Closed as e:
            raise Failure("handshake: connection closed (%s); got %s" % (e, self.seen)) from None

    def max_frame_size(self):
        return self.server_settings.get(S_MAX_FRAME, 16384)

    def max_concurrent_streams(self):
        return self.server_settings.get(S_MAX_CONCURRENT)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_context(opts):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False  # SPIFFE identities are URI SANs: the CA check is what we rely on
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(opts.ca)
    ctx.load_cert_chain(opts.cert, opts.key)
    ctx.set_alpn_protocols(["h2"])
    return ctx


# ---------------------------------------------------------------- verdicts


def codes_text(codes):
    return " or ".join(codes)


def expect_connection_error(c, *codes, close_ok=False):
    """GOAWAY with one of codes (a close without GOAWAY too when close_ok)."""
    try:
        for f in c.frames():
            if isinstance(f, GoAwayFrame):
                if ERRORS.get(f.error_code) in codes:
                    return
                raise Failure("%s (expected %s)" % (describe(f), codes_text(codes)))
    except Timeout:
        raise Failure("no GOAWAY within %.1fs; got %s" % (c.opts.timeout, c.seen or "nothing")) from None
    except Closed as e:
        if close_ok:
            return
        raise Failure("closed without GOAWAY (%s); got %s" % (e, c.seen or "nothing")) from None


def expect_stream_error(c, sid, *codes):
    """RST_STREAM(sid) with one of codes, or a connection error with one of them."""
    try:
        for f in c.frames():
            if isinstance(f, RstStreamFrame) and f.stream_id == sid:
                if ERRORS.get(f.error_code) in codes:
                    return
                raise Failure("%s (expected %s)" % (describe(f), codes_text(codes)))
            if isinstance(f, GoAwayFrame):
                if ERRORS.get(f.error_code) in codes:
                    return
                raise Failure("%s (expected RST_STREAM %s)" % (describe(f), codes_text(codes)))
    except Timeout:
        raise Failure("no RST_STREAM or GOAWAY within %.1fs; got %s" % (c.opts.timeout, c.seen or "nothing")) \
            from None
    except Closed as e:
        raise Failure("closed without RST_STREAM or GOAWAY (%s); got %s" % (e, c.seen)) from None


def expect_alive(c, note=""):
    """The connection still works: a PING is acknowledged with its payload, no error before it."""
    payload = os.urandom(8)
    c.ping(payload)
    try:
        for f in c.frames():
            if isinstance(f, PingFrame) and "ACK" in f.flags and f.opaque_data == payload:
                return
            if isinstance(f, GoAwayFrame) or (isinstance(f, RstStreamFrame) and f.error_code != 0):
                raise Failure("%s%s (expected the frame to be accepted or ignored)" % (describe(f), note))
    except Timeout:
        raise Failure("no PING ACK within %.1fs; got %s" % (c.opts.timeout, c.seen)) from None
    except Closed as e:
        raise Failure("connection closed (%s); got %s" % (e, c.seen)) from None


def expect_response(c, sid, want_body=False, status=None):
    """The response HEADERS on sid (and, with want_body, DATA to END_STREAM): (headers, body)."""
    headers = None
    body = b""
    try:
        for f in c.frames():
            if f.stream_id == sid and isinstance(f, HeadersFrame):
                fields = dict(f.decoded)
                if fields.get(":status", "").startswith("1"):
                    continue  # interim
                headers = fields
                if status is not None and fields.get(":status") != str(status):
                    raise Failure("status %s (expected %s); headers %s" % (fields.get(":status"), status, f.decoded))
                if not want_body or "END_STREAM" in f.flags:
                    return headers, body
            elif f.stream_id == sid and isinstance(f, DataFrame):
                body += f.data
                if "END_STREAM" in f.flags:
                    return headers, body
            elif isinstance(f, RstStreamFrame) and f.stream_id == sid:
                raise Failure("%s before the response ended; got %s" % (describe(f), c.seen))
            elif isinstance(f, GoAwayFrame) and f.error_code != 0:
                raise Failure("%s; got %s" % (describe(f), c.seen))
    except Timeout:
        raise Failure("no response on stream %d within %.1fs; got %s" % (sid, c.opts.timeout, c.seen)) from None
    except Closed as e:
        raise Failure("connection closed (%s); got %s" % (e, c.seen)) from None


def expect_data(c, sid, length, note=""):
    """A DATA frame on sid carrying exactly `length` bytes, and no more data within a short wait."""
    try:
        for f in c.frames():
            if isinstance(f, DataFrame) and f.stream_id == sid and len(f.data) > 0:
                if len(f.data) != length:
                    raise Failure("DATA of %d bytes (expected %d%s)" % (len(f.data), length, note))
                break
            if isinstance(f, (RstStreamFrame, GoAwayFrame)):
                raise Failure("%s (expected DATA of %d bytes); got %s" % (describe(f), length, c.seen))
    except Timeout:
        raise Failure("no DATA on stream %d within %.1fs; got %s" % (sid, c.opts.timeout, c.seen)) from None
    except Closed as e:
        raise Failure("connection closed (%s); got %s" % (e, c.seen)) from None
    try:
        for f in c.frames(timeout=min(0.5, c.opts.timeout)):
            if isinstance(f, DataFrame) and f.stream_id == sid and len(f.data) > 0:
                raise Failure("more DATA (%d bytes) beyond the window of %d" % (len(f.data), length))
    except (Timeout, Closed):
        return


# ---------------------------------------------------------------- what a "request" is in each profile


class Profile:
    """How a case makes a request whose response it can wait for."""

    def __init__(self, opts):
        self.opts = opts

    def fields(self, method="GET", path=None):
        if self.opts.profile == "connect":
            return [(":method", "CONNECT"), (":authority", self.opts.connect_target)]
        return [(":method", method), (":scheme", "http"), (":path", path or self.opts.path),
                (":authority", self.opts.authority)]

    def request(self, c, sid, end_stream=None, **kw):
        """Sends a request HEADERS on sid. A request ends its stream with its HEADERS unless told otherwise;
        a CONNECT does not (its END_STREAM would half-close the tunnel)."""
        if end_stream is None:
            end_stream = self.opts.profile != "connect"
        c.headers(sid, self.fields(), end_stream=end_stream, **kw)

    def body_request(self, c, sid, **kw):
        """HEADERS of a request with a body (DATA follows): POST to the echo path, or CONNECT."""
        if self.opts.profile == "connect":
            c.headers(sid, self.fields(), end_stream=False, **kw)
        else:
            c.headers(sid, self.fields("POST", self.opts.echo_path), end_stream=False, **kw)

    def response_with_body(self, c, sid, min_bytes):
        """Makes the server send at least min_bytes of DATA on sid after the request is out."""
        if self.opts.profile == "connect":
            expect_response(c, sid, status=200)
            c.data(sid, b"x" * min_bytes)

    def big_fields(self):
        """A request whose response body is larger than a few bytes."""
        if self.opts.profile == "connect":
            return self.fields()
        return self.fields("GET", self.opts.bytes_path)

    def complete(self, c, sid):
        """A whole exchange on sid: request, response to END_STREAM (a CONNECT tunnel is ended by us first)."""
        if self.opts.profile == "connect":
            self.request(c, sid)
            expect_response(c, sid, status=200)
            c.data(sid, b"bye", end_stream=True)
            expect_response_end(c, sid)
        else:
            self.request(c, sid)
            expect_response(c, sid, want_body=True)


def expect_response_end(c, sid):
    try:
        for f in c.frames():
            if f.stream_id == sid and "END_STREAM" in f.flags:
                return
            if isinstance(f, RstStreamFrame) and f.stream_id == sid:
                raise Failure("%s (expected END_STREAM)" % describe(f))
    except Timeout:
        raise Failure("no END_STREAM on stream %d within %.1fs; got %s" % (sid, c.opts.timeout, c.seen)) from None
    except Closed as e:
        raise Failure("connection closed (%s); got %s" % (e, c.seen)) from None


# ---------------------------------------------------------------- the cases

CASES = []


def case(cid, title, expected, profiles=("request", "connect")):
    def register(fn):
        CASES.append((cid, title, expected, profiles, fn))
        return fn
    return register


def opened(opts, pairs=()):
    c = Conn(opts)
    c.handshake(pairs)
    return c


# ---- generic: what every server must accept

@case("generic/1-1", "sends a client connection preface", "SETTINGS, and an ACK of ours")
def _(o, p):
    opened(o)


@case("generic/2-1", "sends a PRIORITY frame on an idle stream, then HEADERS on it", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send_frame(PriorityFrame(sid, depends_on=0, stream_weight=15))
    p.request(c, sid)
    expect_response(c, sid)


@case("generic/2-2", "sends WINDOW_UPDATE on a half-closed (remote) stream", "a response", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    c.send_frame(WindowUpdateFrame(sid, window_increment=1))
    expect_response(c, sid)


@case("generic/2-3", "sends PRIORITY on a half-closed (remote) stream", "a response", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    c.send_frame(PriorityFrame(sid, depends_on=0, stream_weight=15))
    expect_response(c, sid)


@case("generic/2-4", "sends RST_STREAM on a half-closed (remote) stream", "accepted (PING answered)",
      ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    c.send_frame(RstStreamFrame(sid, error_code=CODE["CANCEL"]))
    expect_alive(c)


@case("generic/2-5", "sends PRIORITY on a closed stream", "ignored (PING answered)")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.complete(c, sid)
    c.send_frame(PriorityFrame(sid, depends_on=0, stream_weight=15))
    expect_alive(c)


@case("generic/3.1-1", "sends a DATA frame", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"hello", end_stream=o.profile != "connect")
    expect_response(c, sid)


@case("generic/3.1-2", "sends multiple DATA frames", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"hel")
    c.data(sid, b"lo", end_stream=o.profile != "connect")
    expect_response(c, sid)


@case("generic/3.1-3", "sends a DATA frame with padding", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"hello", end_stream=o.profile != "connect", pad_length=8)
    expect_response(c, sid)


@case("generic/3.2-1", "sends a HEADERS frame", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    expect_response(c, sid)


@case("generic/3.2-2", "sends a HEADERS frame with padding", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, pad_length=8)
    expect_response(c, sid)


@case("generic/3.2-3", "sends a HEADERS frame with priority", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, depends_on=0, stream_weight=255, exclusive=False)
    expect_response(c, sid)


def priority_then_request(o, p, **prio):
    c = opened(o)
    sid = c.new_stream()
    c.send_frame(PriorityFrame(sid, **prio))
    p.request(c, sid)
    expect_response(c, sid)


@case("generic/3.3-1", "sends a PRIORITY frame with priority 1", "a response")
def _(o, p):
    priority_then_request(o, p, depends_on=0, stream_weight=0)


@case("generic/3.3-2", "sends a PRIORITY frame with priority 256", "a response")
def _(o, p):
    priority_then_request(o, p, depends_on=0, stream_weight=255)


@case("generic/3.3-3", "sends a PRIORITY frame with a stream dependency", "a response")
def _(o, p):
    priority_then_request(o, p, depends_on=3, stream_weight=15)


@case("generic/3.3-4", "sends a PRIORITY frame with the exclusive flag", "a response")
def _(o, p):
    priority_then_request(o, p, depends_on=3, stream_weight=15, exclusive=True)


@case("generic/3.3-5", "sends PRIORITY for an idle stream, then HEADERS for a lower stream id", "a response")
def _(o, p):
    c = opened(o)
    c.send_frame(PriorityFrame(5, depends_on=0, stream_weight=15))
    p.request(c, 3)
    expect_response(c, 3)


@case("generic/3.4-1", "sends a RST_STREAM frame", "accepted (PING answered)")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send_frame(RstStreamFrame(sid, error_code=CODE["CANCEL"]))
    expect_alive(c)


def settings_acked(o, pairs):
    c = opened(o)
    c.settings(pairs)
    try:
        for f in c.frames():
            if isinstance(f, SettingsFrame) and "ACK" in f.flags:
                return
            if isinstance(f, GoAwayFrame):
                raise Failure(describe(f))
    except Timeout:
        raise Failure("no SETTINGS ACK within %.1fs; got %s" % (o.timeout, c.seen)) from None
    except Closed as e:
        raise Failure("connection closed (%s)" % e) from None


for _i, (_name, _pairs) in enumerate([
        ("SETTINGS_HEADER_TABLE_SIZE", [(S_HEADER_TABLE_SIZE, 4096)]),
        ("SETTINGS_ENABLE_PUSH", [(S_ENABLE_PUSH, 0)]),
        ("SETTINGS_MAX_CONCURRENT_STREAMS", [(S_MAX_CONCURRENT, 100)]),
        ("SETTINGS_INITIAL_WINDOW_SIZE", [(S_INITIAL_WINDOW, 65535)]),
        ("SETTINGS_MAX_FRAME_SIZE", [(S_MAX_FRAME, 16384)]),
        ("SETTINGS_MAX_HEADER_LIST_SIZE", [(S_MAX_HEADER_LIST, 65535)]),
        ("an unknown identifier", [(0xFF, 1)])], start=1):
    case("generic/3.5-%d" % _i, "sends SETTINGS with %s" % _name, "SETTINGS ACK")(
        lambda o, p, pairs=_pairs: settings_acked(o, pairs))


@case("generic/3.7-1", "sends a PING frame", "PING ACK with the same payload")
def _(o, p):
    expect_alive(opened(o))


@case("generic/3.8-1", "sends a GOAWAY frame", "no error: the connection is closed or still answers PING")
def _(o, p):
    c = opened(o)
    c.send_frame(GoAwayFrame(0, last_stream_id=0, error_code=0, additional_data=b"h2conf"))
    try:
        expect_alive(c)
    except Failure as e:
        if "closed" not in str(e):
            raise


@case("generic/3.9-1", "sends WINDOW_UPDATE for the connection", "accepted (PING answered)")
def _(o, p):
    c = opened(o)
    c.send_frame(WindowUpdateFrame(0, window_increment=1))
    expect_alive(c)


@case("generic/3.9-2", "sends WINDOW_UPDATE for an open stream", "accepted (PING answered)")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send_frame(WindowUpdateFrame(sid, window_increment=1))
    expect_alive(c)


def continued(c, p, sid, parts):
    """A request's header block cut into `parts` pieces: HEADERS then CONTINUATIONs."""
    data = c.encoder.encode(p.fields(), huffman=False)
    size = max(1, len(data) // parts)
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    end = END_STREAM if c.opts.profile != "connect" else 0
    c.send(raw(T_HEADERS, end, sid, chunks[0]))
    for i, chunk in enumerate(chunks[1:], start=1):
        c.send(raw(T_CONT, END_HEADERS if i == len(chunks) - 1 else 0, sid, chunk))


@case("generic/3.10-1", "sends a CONTINUATION frame", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    continued(c, p, sid, 2)
    expect_response(c, sid)


@case("generic/3.10-2", "sends multiple CONTINUATION frames", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    continued(c, p, sid, 4)
    expect_response(c, sid)


@case("generic/4-1", "sends a GET request", "a response with a body", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields("GET"))
    h, body = expect_response(c, sid, want_body=True, status=200)


@case("generic/4-2", "sends a HEAD request", "a response without a body", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields("HEAD"))
    h, body = expect_response(c, sid, want_body=True, status=200)
    if body:
        raise Failure("a HEAD response with %d bytes of body" % len(body))


@case("generic/4-3", "sends a POST request", "a response", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields("POST", o.echo_path), end_stream=False)
    c.data(sid, b"hello", end_stream=True)
    expect_response(c, sid, want_body=True, status=200)


@case("generic/4-4", "sends a POST request with trailers", "a response", ("request",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields("POST", o.echo_path) + [("te", "trailers")], end_stream=False)
    c.data(sid, b"hello")
    c.headers(sid, [("x-trailer", "done")], end_stream=True)
    expect_response(c, sid, want_body=True, status=200)


def hpack_request(o, p, extra):
    """A request whose pseudo-header fields are static-table literals and whose last field is `extra`."""
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, None, encoded=block(p.fields()) + extra, end_stream=o.profile != "connect")
    return c, sid


def hpack_accepted(o, p, extra):
    c, sid = hpack_request(o, p, extra)
    expect_response(c, sid)


_UA = 58  # static table index of user-agent
for _i, (_title, _bytes) in enumerate([
        ("indexed header field representation", b"\x90"),  # accept-encoding: gzip, deflate (static 16)
        ("literal with incremental indexing, indexed name", hp_int(_UA, 6, 0x40) + hp_str("h2conf")),
        ("literal with incremental indexing, indexed name, Huffman value",
         hp_int(_UA, 6, 0x40) + hp_str("h2conf", True)),
        ("literal with incremental indexing, new name", b"\x40" + hp_str("x-h2conf") + hp_str("1")),
        ("literal with incremental indexing, new name, Huffman",
         b"\x40" + hp_str("x-h2conf", True) + hp_str("1", True)),
        ("literal without indexing, indexed name", hp_int(_UA, 4, 0x00) + hp_str("h2conf")),
        ("literal without indexing, indexed name, Huffman value", hp_int(_UA, 4, 0x00) + hp_str("h2conf", True)),
        ("literal without indexing, new name", b"\x00" + hp_str("x-h2conf") + hp_str("1")),
        ("literal without indexing, new name, Huffman", b"\x00" + hp_str("x-h2conf", True) + hp_str("1", True)),
        ("literal never indexed, indexed name", hp_int(_UA, 4, 0x10) + hp_str("h2conf")),
        ("literal never indexed, indexed name, Huffman value", hp_int(_UA, 4, 0x10) + hp_str("h2conf", True)),
        ("literal never indexed, new name", b"\x10" + hp_str("x-h2conf") + hp_str("1")),
        ("literal never indexed, new name, Huffman", b"\x10" + hp_str("x-h2conf", True) + hp_str("1", True))],
        start=1):
    case("generic/5-%d" % _i, "sends a %s" % _title, "a response")(
        lambda o, p, extra=_bytes: hpack_accepted(o, p, extra))


@case("generic/5-14", "sends a dynamic table size update", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, None, encoded=hp_int(4096, 5, 0x20) + block(p.fields()), end_stream=o.profile != "connect")
    expect_response(c, sid)


@case("generic/5-15", "sends multiple dynamic table size updates", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, None, encoded=hp_int(0, 5, 0x20) + hp_int(4096, 5, 0x20) + block(p.fields()),
              end_stream=o.profile != "connect")
    expect_response(c, sid)


# ---- http2 3.5: connection preface

@case("http2/3.5-1", "sends a client connection preface", "SETTINGS")
def _(o, p):
    opened(o)


@case("http2/3.5-2", "sends an invalid connection preface (corrupt after PRI)",
      "connection error PROTOCOL_ERROR (GOAWAY, or a close)")
def _(o, p):
    c = Conn(o)
    c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    expect_connection_error(c, "PROTOCOL_ERROR", close_ok=True)


# ---- http2 4.1-4.3: frames

@case("http2/4.1-1", "sends a frame with an unknown type", "ignored (PING answered)")
def _(o, p):
    c = opened(o)
    c.send(raw(0x16, 0, 0, b"\x00" * 8))
    expect_alive(c)


@case("http2/4.1-2", "sends a frame with an undefined flag", "ignored (PING answered)")
def _(o, p):
    c = opened(o)
    payload = os.urandom(8)
    c.send(raw(T_PING, 0x16, 0, payload))
    try:
        for f in c.frames():
            if isinstance(f, PingFrame) and "ACK" in f.flags and f.opaque_data == payload:
                return
            if isinstance(f, GoAwayFrame):
                raise Failure(describe(f))
    except (Timeout, Closed) as e:
        raise Failure("no PING ACK (%s); got %s" % (type(e).__name__, c.seen)) from None


@case("http2/4.1-3", "sends a frame with the reserved bit of the stream id set", "ignored (PING answered)")
def _(o, p):
    c = opened(o)
    payload = os.urandom(8)
    c.send(raw(T_PING, 0, 0x80000000, payload))
    try:
        for f in c.frames():
            if isinstance(f, PingFrame) and "ACK" in f.flags and f.opaque_data == payload:
                return
            if isinstance(f, GoAwayFrame):
                raise Failure(describe(f))
    except (Timeout, Closed) as e:
        raise Failure("no PING ACK (%s); got %s" % (type(e).__name__, c.seen)) from None


@case("http2/4.2-1", "sends a DATA frame of 2^14 octets", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"x" * 16384, end_stream=o.profile != "connect")
    expect_response(c, sid)


@case("http2/4.2-2", "sends a DATA frame larger than SETTINGS_MAX_FRAME_SIZE",
      "stream or connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.send_oversized(raw(T_DATA, 0, sid, b"x" * (c.max_frame_size() + 1)))
    expect_stream_error(c, sid, "FRAME_SIZE_ERROR")


@case("http2/4.2-3", "sends a HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE",
      "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    filler = [("x-filler-%d" % i, "v" * 1000) for i in range(c.max_frame_size() // 1000 + 2)]
    payload = block(p.fields() + filler)
    c.send_oversized(raw(T_HEADERS, END_HEADERS | END_STREAM, sid, payload))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/4.3-1", "sends an invalid header block fragment", "connection error COMPRESSION_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    # A literal with incremental indexing whose value is cut off: the block ends inside a field.
    c.send(raw(T_HEADERS, END_HEADERS | END_STREAM, sid, block(p.fields()) + b"\x40\x0ax-h2conf-k\x0a"))
    expect_connection_error(c, "COMPRESSION_ERROR")


@case("http2/4.3-2", "sends a PRIORITY frame while sending a header block", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send(raw(T_HEADERS, END_STREAM, sid, block(p.fields())))
    c.send_frame(PriorityFrame(sid, depends_on=0, stream_weight=15))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/4.3-3", "sends HEADERS for another stream while sending a header block",
      "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_HEADERS, END_STREAM, 1, block(p.fields())))
    c.send(raw(T_HEADERS, END_STREAM | END_HEADERS, 3, block(p.fields())))
    expect_connection_error(c, "PROTOCOL_ERROR")


# ---- http2 5.1: stream states

@case("http2/5.1-1", "idle: sends a DATA frame", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.data(1, b"x", end_stream=True)
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/5.1-2", "idle: sends a RST_STREAM frame", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send_frame(RstStreamFrame(1, error_code=CODE["CANCEL"]))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/5.1-3", "idle: sends a WINDOW_UPDATE frame", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send_frame(WindowUpdateFrame(1, window_increment=100))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/5.1-4", "idle: sends a CONTINUATION frame", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_CONT, END_HEADERS, 1, block(p.fields())))
    expect_connection_error(c, "PROTOCOL_ERROR")


def half_closed_remote(o, p):
    """A stream the client has ended (END_STREAM on its HEADERS)."""
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields(), end_stream=True)
    return c, sid


@case("http2/5.1-5", "half closed (remote): sends a DATA frame", "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = half_closed_remote(o, p)
    c.data(sid, b"x", end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-6", "half closed (remote): sends a HEADERS frame", "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = half_closed_remote(o, p)
    c.headers(sid, p.fields(), end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-7", "half closed (remote): sends a CONTINUATION frame",
      "stream or connection error STREAM_CLOSED, or connection error PROTOCOL_ERROR")
def _(o, p):
    c, sid = half_closed_remote(o, p)
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_stream_error(c, sid, "STREAM_CLOSED", "PROTOCOL_ERROR")


def reset_by_client(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, p.fields(), end_stream=False)
    if o.profile == "connect":
        # A CONNECT is answered at once: wait for the tunnel's 200 so that the stream is open on both sides when
        # we reset it. Without the wait, the server's answer and our RST_STREAM cross, and the order in which the
        # server sees them is a race (seen once in a few full runs as a RST_STREAM(CANCEL) from the server).
        expect_response(c, sid, status=200)
    c.send_frame(RstStreamFrame(sid, error_code=CODE["CANCEL"]))
    return c, sid


@case("http2/5.1-8", "closed: sends a DATA frame after sending RST_STREAM",
      "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = reset_by_client(o, p)
    c.data(sid, b"x", end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-9", "closed: sends a HEADERS frame after sending RST_STREAM",
      "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = reset_by_client(o, p)
    c.headers(sid, p.fields(), end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-10", "closed: sends a CONTINUATION frame after sending RST_STREAM",
      "stream or connection error STREAM_CLOSED, or connection error PROTOCOL_ERROR")
def _(o, p):
    c, sid = reset_by_client(o, p)
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_stream_error(c, sid, "STREAM_CLOSED", "PROTOCOL_ERROR")


def closed_normally(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.complete(c, sid)
    return c, sid


@case("http2/5.1-11", "closed: sends a DATA frame after the stream ended both ways",
      "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = closed_normally(o, p)
    c.data(sid, b"x", end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-12", "closed: sends a HEADERS frame after the stream ended both ways",
      "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = closed_normally(o, p)
    c.headers(sid, p.fields(), end_stream=True)
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/5.1-13", "closed: sends a CONTINUATION frame after the stream ended both ways",
      "stream or connection error STREAM_CLOSED, or connection error PROTOCOL_ERROR")
def _(o, p):
    c, sid = closed_normally(o, p)
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_stream_error(c, sid, "STREAM_CLOSED", "PROTOCOL_ERROR")


@case("http2/5.1.1-1", "sends a stream identifier that is even", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.headers(2, p.fields(), end_stream=True)
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/5.1.1-2", "sends a stream identifier smaller than a previous one", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    p.request(c, 5)
    p.request(c, 3)
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/5.1.2-1", "opens more streams than SETTINGS_MAX_CONCURRENT_STREAMS",
      "stream error PROTOCOL_ERROR or REFUSED_STREAM on the stream beyond the limit")
def _(o, p):
    c = opened(o)
    limit = c.max_concurrent_streams()
    if limit is None or limit > 1000:
        raise Failure("the server advertised no usable SETTINGS_MAX_CONCURRENT_STREAMS (%s)" % limit)
    for _ in range(limit):
        c.headers(c.new_stream(), p.fields(), end_stream=False)
    sid = c.new_stream()
    c.headers(sid, p.fields(), end_stream=False)
    expect_stream_error(c, sid, "PROTOCOL_ERROR", "REFUSED_STREAM")


# ---- http2 5.3-5.5

@case("http2/5.3.1-1", "sends HEADERS that depend on their own stream", "stream error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, depends_on=sid, stream_weight=15)
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/5.3.1-2", "sends PRIORITY that depends on its own stream", "stream error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send(raw(T_PRIORITY, 0, sid, struct.pack(">IB", sid, 15)))
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/5.4.1-1", "sends an invalid PING frame (connection error)", "GOAWAY")
def _(o, p):
    c = opened(o)
    c.send(raw(T_PING, 0, 0, b"\x00" * 6))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/5.4.1-2", "sends an invalid frame after a request", "GOAWAY whose last stream id is that request's")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.complete(c, sid)
    c.send(raw(T_PING, 0, 0, b"\x00" * 6))
    try:
        for f in c.frames():
            if isinstance(f, GoAwayFrame):
                if f.last_stream_id != sid:
                    raise Failure("%s (expected last stream %d)" % (describe(f), sid))
                return
    except (Timeout, Closed) as e:
        raise Failure("no GOAWAY (%s); got %s" % (type(e).__name__, c.seen)) from None


@case("http2/5.5-1", "sends an unknown extension frame", "ignored (PING answered)")
def _(o, p):
    c = opened(o)
    c.send(raw(0x20, 0, 0, b"h2conf"))
    expect_alive(c)


@case("http2/5.5-2", "sends an unknown extension frame in the middle of a header block",
      "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send(raw(T_HEADERS, END_STREAM, sid, block(p.fields())))
    c.send(raw(0x20, 0, sid, b"h2conf"))
    expect_connection_error(c, "PROTOCOL_ERROR")


# ---- http2 6.1-6.4

@case("http2/6.1-1", "sends DATA with stream id 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_DATA, END_STREAM, 0, b"x"))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.1-2", "sends DATA on a stream that is not open (half closed, remote)",
      "stream or connection error STREAM_CLOSED")
def _(o, p):
    c, sid = half_closed_remote(o, p)
    c.data(sid, b"x")
    expect_stream_error(c, sid, "STREAM_CLOSED")


@case("http2/6.1-3", "sends DATA with an invalid pad length", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.send(raw(T_DATA, PADDED | END_STREAM, sid, b"\x06" + b"x" * 5))  # 6 bytes of padding in a 5-byte rest
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.2-1", "sends HEADERS without END_HEADERS, then PRIORITY", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send(raw(T_HEADERS, END_STREAM, sid, block(p.fields())))
    c.send_frame(PriorityFrame(sid + 2, depends_on=0, stream_weight=15))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.2-2", "sends HEADERS to another stream while sending a header block",
      "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_HEADERS, END_STREAM, 1, block(p.fields())))
    c.send(raw(T_HEADERS, END_STREAM | END_HEADERS, 3, block(p.fields())))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.2-3", "sends HEADERS with stream id 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_HEADERS, END_STREAM | END_HEADERS, 0, block(p.fields())))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.2-4", "sends HEADERS with an invalid pad length", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    fields = block(p.fields())
    c.send(raw(T_HEADERS, END_STREAM | END_HEADERS | PADDED, 1, bytes([len(fields) + 1]) + fields))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.3-1", "sends PRIORITY with stream id 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_PRIORITY, 0, 0, struct.pack(">IB", 0, 15)))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.3-2", "sends PRIORITY with a length other than 5", "stream error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send(raw(T_PRIORITY, 0, sid, struct.pack(">IBB", 0, 15, 0)))
    expect_stream_error(c, sid, "FRAME_SIZE_ERROR")


@case("http2/6.4-1", "sends RST_STREAM with stream id 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_RST, 0, 0, struct.pack(">I", CODE["CANCEL"])))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.4-2", "sends RST_STREAM on an idle stream", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_RST, 0, 1, struct.pack(">I", CODE["CANCEL"])))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.4-3", "sends RST_STREAM with a length other than 4", "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send(raw(T_RST, 0, sid, struct.pack(">IB", CODE["CANCEL"], 0)))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


# ---- http2 6.5: SETTINGS

@case("http2/6.5-1", "sends SETTINGS with ACK and a payload", "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_SETTINGS, ACK, 0, settings_payload([(S_ENABLE_PUSH, 0)])))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/6.5-2", "sends SETTINGS with a stream id other than 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_SETTINGS, 0, 1, settings_payload([(S_ENABLE_PUSH, 0)])))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.5-3", "sends SETTINGS whose length is not a multiple of 6", "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_SETTINGS, 0, 0, settings_payload([(S_ENABLE_PUSH, 0)])[:5]))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/6.5.2-1", "sends SETTINGS_ENABLE_PUSH other than 0 or 1", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.settings([(S_ENABLE_PUSH, 2)])
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.5.2-2", "sends SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", "connection error FLOW_CONTROL_ERROR")
def _(o, p):
    c = opened(o)
    c.settings([(S_INITIAL_WINDOW, 2 ** 31)])
    expect_connection_error(c, "FLOW_CONTROL_ERROR")


@case("http2/6.5.2-3", "sends SETTINGS_MAX_FRAME_SIZE below 16384", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.settings([(S_MAX_FRAME, 16383)])
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.5.2-4", "sends SETTINGS_MAX_FRAME_SIZE above 2^24-1", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.settings([(S_MAX_FRAME, 2 ** 24)])
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.5.2-5", "sends SETTINGS with an unknown identifier", "SETTINGS ACK")
def _(o, p):
    settings_acked(o, [(0xFF, 1)])


def small_window_response(o, p, c, sid):
    """Gets the server to send a body on sid (a CONNECT echoes what the client writes)."""
    if o.profile == "connect":
        p.request(c, sid)
        expect_response(c, sid, status=200)
        c.data(sid, b"x" * 16)
    else:
        c.headers(sid, p.big_fields(), end_stream=True)


@case("http2/6.5.3-1", "sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE",
      "the last one applies: DATA of 1 byte")
def _(o, p):
    c = opened(o)
    c.settings([(S_INITIAL_WINDOW, 100), (S_INITIAL_WINDOW, 1)])
    sid = c.new_stream()
    small_window_response(o, p, c, sid)
    expect_data(c, sid, 1)


@case("http2/6.5.3-2", "sends a SETTINGS frame without ACK", "SETTINGS ACK")
def _(o, p):
    settings_acked(o, [(S_ENABLE_PUSH, 0)])


# ---- http2 6.7-6.8: PING, GOAWAY

@case("http2/6.7-1", "sends a PING frame", "PING ACK with the same payload")
def _(o, p):
    expect_alive(opened(o))


@case("http2/6.7-2", "sends a PING frame with ACK", "not answered (the next PING's ACK comes first)")
def _(o, p):
    c = opened(o)
    c.ping(b"unsolici", ack=True)
    payload = os.urandom(8)
    c.ping(payload)
    try:
        for f in c.frames():
            if isinstance(f, PingFrame) and "ACK" in f.flags:
                if f.opaque_data != payload:
                    raise Failure("a PING ACK of %r (the ACK was answered)" % f.opaque_data)
                return
            if isinstance(f, GoAwayFrame):
                raise Failure(describe(f))
    except (Timeout, Closed) as e:
        raise Failure("no PING ACK (%s); got %s" % (type(e).__name__, c.seen)) from None


@case("http2/6.7-3", "sends PING with a stream id other than 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_PING, 0, 1, b"\x00" * 8))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.7-4", "sends PING with a length other than 8", "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_PING, 0, 0, b"\x00" * 6))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/6.8-1", "sends GOAWAY with a stream id other than 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_GOAWAY, 0, 1, struct.pack(">II", 0, 0)))
    expect_connection_error(c, "PROTOCOL_ERROR")


# ---- http2 6.9: WINDOW_UPDATE and flow control

@case("http2/6.9-1", "sends WINDOW_UPDATE with an increment of 0 for the connection",
      "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_WINDOW, 0, 0, struct.pack(">I", 0)))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.9-2", "sends WINDOW_UPDATE with an increment of 0 for a stream", "stream error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send(raw(T_WINDOW, 0, sid, struct.pack(">I", 0)))
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/6.9-3", "sends WINDOW_UPDATE with a length other than 4", "connection error FRAME_SIZE_ERROR")
def _(o, p):
    c = opened(o)
    c.send(raw(T_WINDOW, 0, 0, struct.pack(">IB", 1, 0)))
    expect_connection_error(c, "FRAME_SIZE_ERROR")


@case("http2/6.9.1-1", "sends SETTINGS_INITIAL_WINDOW_SIZE of 1, then a request", "DATA of 1 byte")
def _(o, p):
    c = opened(o, [(S_INITIAL_WINDOW, 1)])
    sid = c.new_stream()
    small_window_response(o, p, c, sid)
    expect_data(c, sid, 1)


@case("http2/6.9.1-2", "sends WINDOW_UPDATEs that take the connection window past 2^31-1",
      "connection error FLOW_CONTROL_ERROR")
def _(o, p):
    c = opened(o)
    # Both in one write: the first alone already overflows the window (65,535 + 2^31-1), so a peer that answers
    # it at once may have closed before a second write, which would then fail with EPIPE instead of reading the
    # GOAWAY (seen once in CI).
    c.send(WindowUpdateFrame(0, window_increment=2 ** 31 - 1).serialize() * 2)
    expect_connection_error(c, "FLOW_CONTROL_ERROR")


@case("http2/6.9.1-3", "sends WINDOW_UPDATEs that take a stream window past 2^31-1",
      "stream error FLOW_CONTROL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send_frame(WindowUpdateFrame(sid, window_increment=2 ** 31 - 1))
    c.send_frame(WindowUpdateFrame(sid, window_increment=2 ** 31 - 1))
    expect_stream_error(c, sid, "FLOW_CONTROL_ERROR")


@case("connect/5.4.2-1", "on an open tunnel (after the 200), WINDOW_UPDATEs take the stream window past 2^31-1",
      "stream error FLOW_CONTROL_ERROR (not CANCEL from the relay)", profiles=("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    expect_response(c, sid, status=200)
    c.send_frame(WindowUpdateFrame(sid, window_increment=2 ** 31 - 1))
    c.send_frame(WindowUpdateFrame(sid, window_increment=2 ** 31 - 1))
    expect_stream_error(c, sid, "FLOW_CONTROL_ERROR")


@case("connect/5.4.2-2", "on an open tunnel (after the 200), PRIORITY with a length other than 5",
      "stream error FRAME_SIZE_ERROR (not CANCEL from the relay)", profiles=("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid)
    expect_response(c, sid, status=200)
    c.send(raw(T_PRIORITY, 0, sid, struct.pack(">IBB", 0, 15, 0)))
    expect_stream_error(c, sid, "FRAME_SIZE_ERROR")


@case("http2/6.9.2-1", "changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS", "DATA of 1 byte")
def _(o, p):
    c = opened(o, [(S_INITIAL_WINDOW, 0)])
    sid = c.new_stream()
    small_window_response(o, p, c, sid)
    c.settings([(S_INITIAL_WINDOW, 1)])
    expect_data(c, sid, 1)


@case("http2/6.9.2-2", "sends a SETTINGS_INITIAL_WINDOW_SIZE that makes a stream window negative",
      "no DATA until a WINDOW_UPDATE brings the window above 0; then DATA of 1 byte")
def _(o, p):
    c = opened(o, [(S_INITIAL_WINDOW, 3)])
    sid = c.new_stream()
    small_window_response(o, p, c, sid)
    expect_data(c, sid, 3)
    c.settings([(S_INITIAL_WINDOW, 2)])  # window 3 - 3 - 1 = -1
    c.send_frame(WindowUpdateFrame(sid, window_increment=2))  # -1 + 2 = 1
    expect_data(c, sid, 1)


@case("http2/6.9.2-3", "sends SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", "connection error FLOW_CONTROL_ERROR")
def _(o, p):
    c = opened(o)
    c.settings([(S_INITIAL_WINDOW, 2 ** 31)])
    expect_connection_error(c, "FLOW_CONTROL_ERROR")


# ---- http2 6.10: CONTINUATION

@case("http2/6.10-1", "sends multiple CONTINUATION frames after HEADERS", "a response")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    continued(c, p, sid, 3)
    expect_response(c, sid)


@case("http2/6.10-2", "sends a CONTINUATION without END_HEADERS, then a DATA frame",
      "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    data = block(p.fields())
    c.send(raw(T_HEADERS, 0, sid, data[:4]))
    c.send(raw(T_CONT, 0, sid, data[4:]))
    c.send(raw(T_DATA, END_STREAM, sid, b"x"))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.10-3", "sends CONTINUATION with stream id 0", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    data = block(p.fields())
    c.send(raw(T_HEADERS, END_STREAM, sid, data[:4]))
    c.send(raw(T_CONT, END_HEADERS, 0, data[4:]))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.10-4", "sends CONTINUATION after HEADERS with END_HEADERS", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.send(raw(T_HEADERS, END_HEADERS, sid, block(p.fields())))
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.10-5", "sends CONTINUATION after CONTINUATION with END_HEADERS", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    data = block(p.fields())
    c.send(raw(T_HEADERS, 0, sid, data[:4]))
    c.send(raw(T_CONT, END_HEADERS, sid, data[4:]))
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_connection_error(c, "PROTOCOL_ERROR")


@case("http2/6.10-6", "sends CONTINUATION after DATA", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"x")
    c.send(raw(T_CONT, END_HEADERS, sid, block([("x-h2conf", "1")])))
    expect_connection_error(c, "PROTOCOL_ERROR")


# ---- http2 8.1: HTTP message exchanges

def malformed(o, p, fields, end_stream=True, encoded=None):
    """A malformed request: stream error PROTOCOL_ERROR (RFC 9113 8.1.1; a response MAY come first)."""
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, None, encoded=encoded if encoded is not None else block(fields), end_stream=end_stream)
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/8.1-1", "sends a second HEADERS frame without END_STREAM", "stream error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"x")
    c.headers(sid, [("x-trailer", "1")], end_stream=False, encoded=block([("x-trailer", "1")]))
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/8.1.2-1", "sends a header field name in upper case", "stream error PROTOCOL_ERROR")
def _(o, p):
    malformed(o, p, p.fields() + [("X-H2conf", "1")])


@case("http2/8.1.2.1-1", "sends an unknown pseudo-header field", "stream error PROTOCOL_ERROR")
def _(o, p):
    malformed(o, p, p.fields() + [(":h2conf", "1")])


@case("http2/8.1.2.1-2", "sends a response pseudo-header field (:status) in a request",
      "stream error PROTOCOL_ERROR")
def _(o, p):
    malformed(o, p, p.fields() + [(":status", "200")])


@case("http2/8.1.2.1-3", "sends a pseudo-header field in trailers", "stream error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.body_request(c, sid)
    c.data(sid, b"x")
    c.headers(sid, None, encoded=block([(":method", "POST")]), end_stream=True)
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/8.1.2.1-4", "sends a pseudo-header field after a regular one", "stream error PROTOCOL_ERROR")
def _(o, p):
    f = p.fields()
    malformed(o, p, f[:1] + [("x-h2conf", "1")] + f[1:])


@case("http2/8.1.2.2-1", "sends a connection-specific header field", "stream error PROTOCOL_ERROR")
def _(o, p):
    malformed(o, p, p.fields() + [("connection", "keep-alive")])


@case("http2/8.1.2.2-2", "sends a TE header field other than \"trailers\"", "stream error PROTOCOL_ERROR")
def _(o, p):
    malformed(o, p, p.fields() + [("te", "trailers, deflate")])


def request_fields(o, **change):
    """GET request fields with some changed (None: omitted; a list: repeated)."""
    base = [(":method", "GET"), (":scheme", "http"), (":path", o.path), (":authority", o.authority)]
    out = []
    for name, value in base:
        key = name[1:]
        if key in change:
            v = change[key]
            if v is None:
                continue
            for each in (v if isinstance(v, list) else [v]):
                out.append((name, each))
        else:
            out.append((name, value))
    return out


for _i, (_title, _change) in enumerate([
        ("an empty :path", {"path": ""}),
        ("no :method", {"method": None}),
        ("no :scheme", {"scheme": None}),
        ("no :path", {"path": None}),
        ("a duplicated :method", {"method": ["GET", "GET"]}),
        ("a duplicated :scheme", {"scheme": ["http", "http"]}),
        ("a duplicated :path", {"path": ["/", "/"]})], start=1):
    case("http2/8.1.2.3-%d" % _i, "sends a request with %s" % _title, "stream error PROTOCOL_ERROR",
         ("request",))(lambda o, p, ch=_change: malformed(o, p, request_fields(o, **ch)))


for _i, (_title, _field) in enumerate([
        ("a field name with a space", ("x h2conf", "1")),
        ("a field name with a colon inside", ("x:h2conf", "1")),
        ("a field value with NUL", ("x-h2conf", "a\x00b")),
        ("a field value with CR", ("x-h2conf", "a\rb")),
        ("a field value with LF", ("x-h2conf", "a\nb")),
        ("a field value starting with a space", ("x-h2conf", " a")),
        ("a field value ending with a tab", ("x-h2conf", "a\t")),
        ("a field value ending with a space", ("x-h2conf", "a "))], start=1):
    # RFC 9113 §8.2.1: such fields make the request malformed. A proxy that let CR or LF through could be made to
    # write a second request (or header) into an HTTP/1.1 upstream.
    case("http2/8.2.1-%d" % _i, "sends %s" % _title, "stream error PROTOCOL_ERROR")(
        lambda o, p, f=_field: malformed(o, p, p.fields() + [f], end_stream=o.profile != "connect"))


def content_length_mismatch(o, p, parts):
    c = opened(o)
    sid = c.new_stream()
    fields = p.fields("POST", o.echo_path) if o.profile != "connect" else p.fields()
    c.headers(sid, None, encoded=block(fields + [("content-length", "1")]), end_stream=False)
    for i, part in enumerate(parts):
        c.data(sid, part, end_stream=i == len(parts) - 1)
    expect_stream_error(c, sid, "PROTOCOL_ERROR")


@case("http2/8.1.2.6-1", "sends content-length different from the DATA's length", "stream error PROTOCOL_ERROR",
      ("request",))
def _(o, p):
    content_length_mismatch(o, p, [b"hello"])


@case("http2/8.1.2.6-2", "sends content-length different from the sum of several DATA frames",
      "stream error PROTOCOL_ERROR", ("request",))
def _(o, p):
    content_length_mismatch(o, p, [b"he", b"llo"])


@case("http2/8.2-1", "sends a PUSH_PROMISE frame", "connection error PROTOCOL_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.request(c, sid, end_stream=False)
    c.send(raw(T_PUSH, END_HEADERS, sid, struct.pack(">I", 2) + block(p.fields())))
    expect_connection_error(c, "PROTOCOL_ERROR")


# ---- http2 8.5: CONNECT (the HBONE server)

def connect_fields(o, **extra):
    f = [(":method", "CONNECT"), (":authority", o.connect_target)]
    return f + list(extra.items())


@case("connect/8.5-1", "sends CONNECT with :authority only, then bytes into the tunnel",
      "200 without END_STREAM, then the echo of the bytes", ("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, connect_fields(o), end_stream=False)
    h, _ = expect_response(c, sid, status=200)
    c.data(sid, b"ping-through-tunnel")
    got = b""
    try:
        for f in c.frames():
            if isinstance(f, DataFrame) and f.stream_id == sid:
                got += f.data
                if len(got) >= len(b"ping-through-tunnel"):
                    break
            if isinstance(f, (RstStreamFrame, GoAwayFrame)):
                raise Failure(describe(f))
    except (Timeout, Closed) as e:
        raise Failure("echo incomplete (%s): %r" % (type(e).__name__, got)) from None
    if got != b"ping-through-tunnel":
        raise Failure("echo %r" % got)


@case("connect/8.5-2", "ends the tunnel with END_STREAM", "the server ends its side too (END_STREAM)",
      ("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    p.complete(c, sid)


@case("connect/8.5-3", "sends CONNECT without :authority", "stream error PROTOCOL_ERROR (a 400 may come first)",
      ("connect",))
def _(o, p):
    malformed(o, p, [(":method", "CONNECT")], end_stream=False)


@case("connect/8.5-4", "sends CONNECT with :scheme", "stream error PROTOCOL_ERROR (a 400 may come first)",
      ("connect",))
def _(o, p):
    malformed(o, p, [(":method", "CONNECT"), (":scheme", "https"), (":authority", o.connect_target)],
              end_stream=False)


@case("connect/8.5-5", "sends CONNECT with :path", "stream error PROTOCOL_ERROR (a 400 may come first)",
      ("connect",))
def _(o, p):
    malformed(o, p, [(":method", "CONNECT"), (":path", "/"), (":authority", o.connect_target)], end_stream=False)


@case("connect/8.5-6", "sends an extended CONNECT (:protocol) the server did not enable (RFC 8441)",
      "stream error PROTOCOL_ERROR (a 400 may come first)", ("connect",))
def _(o, p):
    malformed(o, p, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/"),
                     (":authority", o.connect_target)], end_stream=False)


@case("connect/8.5-7", "sends a well-formed GET to the CONNECT-only server", "an answer of 400 (as ztunnel)",
      ("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", o.connect_target)])
    expect_response(c, sid, status=400)


@case("connect/8.5-8", "sends CONNECT with an :authority that is not host:port",
      "an answer of 400, or stream error PROTOCOL_ERROR", ("connect",))
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, [(":method", "CONNECT"), (":authority", "no-port-here")], end_stream=False)
    try:
        for f in c.frames():
            if isinstance(f, HeadersFrame) and f.stream_id == sid:
                status = dict(f.decoded).get(":status")
                if status == "400":
                    return
                raise Failure("status %s (expected 400)" % status)
            if isinstance(f, RstStreamFrame) and f.stream_id == sid:
                if f.error_code == CODE["PROTOCOL_ERROR"]:
                    return
                raise Failure(describe(f))
            if isinstance(f, GoAwayFrame):
                raise Failure(describe(f))
    except (Timeout, Closed) as e:
        raise Failure("no answer (%s); got %s" % (type(e).__name__, c.seen)) from None


@case("connect/8.5-9", "sends a malformed request (upper-case field name) to the CONNECT server",
      "stream error PROTOCOL_ERROR", ("connect",))
def _(o, p):
    malformed(o, p, connect_fields(o) + [("X-H2conf", "1")], end_stream=False)


@case("connect/9.2-1", "negotiates TLS", "TLS 1.2 or later (RFC 9113 9.2) and ALPN h2", ("connect",))
def _(o, p):
    c = Conn(o)
    if not o.tls:
        raise Failure("the connect profile runs over TLS (--tls)")
    version = c.sock.version()
    alpn = c.sock.selected_alpn_protocol()
    if version not in ("TLSv1.2", "TLSv1.3") or alpn != "h2":
        raise Failure("%s with ALPN %s" % (version, alpn))
    c.handshake()


# ---- flow control end to end, with python3-h2 as the client (a full, independent HTTP/2 state machine)

def h2_exchange(o, p, body, streams):
    """`streams` concurrent exchanges, each sending `body` and expecting it back whole (POST to the echo path, or
    through a CONNECT tunnel to the echo server), with h2 minding both flow-control windows. Bounded by count and
    by time."""
    import h2.config
    import h2.connection
    import h2.events

    c = Conn(o)
    # h2 4.1 insists on :path in every request; a CONNECT (RFC 9113 §8.5) must not have one.
    config = h2.config.H2Configuration(
        client_side=True, header_encoding="utf-8", validate_outbound_headers=o.profile != "connect")
    conn = h2.connection.H2Connection(config)
    conn.initiate_connection()
    c.send(conn.data_to_send())
    sids = []
    for _ in range(streams):
        sid = conn.get_next_available_stream_id()
        if o.profile == "connect":
            conn.send_headers(sid, p.fields(), end_stream=False)
        else:
            conn.send_headers(sid, p.fields("POST", o.echo_path) + [("content-length", str(len(body)))])
        sids.append(sid)
    c.send(conn.data_to_send())
    to_send = {sid: 0 for sid in sids}
    received = {sid: bytearray() for sid in sids}
    ended = set()
    deadline = time.monotonic() + 6 * o.timeout
    for _ in range(200_000):
        for sid in sids:  # send what the windows allow
            while to_send[sid] < len(body):
                room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, len(body) - to_send[sid])
                if room <= 0:
                    break
                last = to_send[sid] + room == len(body)
                conn.send_data(sid, body[to_send[sid]:to_send[sid] + room],
                               end_stream=last and o.profile != "connect")
                to_send[sid] += room
        c.send(conn.data_to_send())
        if all(len(received[sid]) >= len(body) for sid in sids):
            break
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out: sent %s, received %s of %d bytes per stream" % (
                list(to_send.values()), [len(v) for v in received.values()], len(body)))
        c.sock.settimeout(left)
        try:
            chunk = c.sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            raise Failure("connection failed: %s" % e) from None
        if not chunk:
            raise Failure("connection closed; received %s" % [len(v) for v in received.values()])
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.DataReceived):
                received[ev.stream_id] += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                raise Failure("stream %d reset (%s)" % (ev.stream_id, ev.error_code))
            elif isinstance(ev, h2.events.ConnectionTerminated):
                raise Failure("GOAWAY (%s)" % ev.error_code)
            elif isinstance(ev, h2.events.StreamEnded):
                ended.add(ev.stream_id)
                if len(received[ev.stream_id]) < len(body):
                    raise Failure("stream %d ended after %d of %d bytes" % (
                        ev.stream_id, len(received[ev.stream_id]), len(body)))
            elif isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(":status")
                if status != "200":
                    raise Failure("stream %d answered %s" % (ev.stream_id, status))
    else:
        raise Failure("no end after 200000 reads")
    for sid in sids:
        if bytes(received[sid][:len(body)]) != body:
            raise Failure("stream %d: the echo differs from what was sent (%d bytes back)" % (sid, len(received[sid])))


@case("flow/1", "sends a 256 KiB body and gets it back (python3-h2 client; windows of 64 KiB or more)",
      "the echo, whole: both sides honour and reopen the flow-control windows")
def _(o, p):
    h2_exchange(o, p, os.urandom(256 * 1024), 1)


@case("flow/2", "sends 8 bodies of 128 KiB on concurrent streams and gets each back", "each echo, whole")
def _(o, p):
    h2_exchange(o, p, os.urandom(128 * 1024), 8)


# ---- hpack

def compression_error(o, p, extra):
    c, sid = hpack_request(o, p, extra)
    expect_connection_error(c, "COMPRESSION_ERROR")


@case("hpack/2.3.3-1", "sends an indexed field with an index beyond both tables",
      "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, hp_int(70, 7, 0x80))


@case("hpack/2.3.3-2", "sends a literal field whose name index is beyond both tables",
      "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, hp_int(70, 6, 0x40) + hp_str("x"))


@case("hpack/4.2-1", "sends a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE",
      "connection error COMPRESSION_ERROR")
def _(o, p):
    c = opened(o)
    sid = c.new_stream()
    c.headers(sid, None, encoded=hp_int(4097, 5, 0x20) + block(p.fields()), end_stream=o.profile != "connect")
    expect_connection_error(c, "COMPRESSION_ERROR")


@case("hpack/5.2-1", "sends a Huffman string that contains the EOS symbol", "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, b"\x00" + hp_str("x-h2conf") + b"\x84\xff\xff\xff\xff")


@case("hpack/5.2-2", "sends a Huffman string with more than 7 bits of padding", "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, b"\x00" + hp_str("x-h2conf") + b"\x82\x1f\xff")  # 'a' then 11 bits of 1s


@case("hpack/5.2-3", "sends a Huffman string whose padding is not the EOS prefix",
      "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, b"\x00" + hp_str("x-h2conf") + b"\x81\x18")  # 'a' (00011) then 000


@case("hpack/6.1-1", "sends an indexed field with index 0", "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, b"\x80")


@case("hpack/6.3-1", "sends a dynamic table size update at the end of a header block",
      "connection error COMPRESSION_ERROR")
def _(o, p):
    compression_error(o, p, hp_int(0, 5, 0x20))


# ---------------------------------------------------------------- driver


def main(argv):
    a = argparse.ArgumentParser(description="HTTP/2 conformance cases (h2spec's sections) against a server")
    a.add_argument("--host", default="127.0.0.1")
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--profile", choices=("request", "connect"), default="request")
    a.add_argument("--tls", action="store_true", help="TLS with ALPN h2 (needs --cert, --key, --ca)")
    a.add_argument("--cert", help="client certificate chain (PEM)")
    a.add_argument("--key", help="client key (PEM)")
    a.add_argument("--ca", help="roots to verify the server with (PEM)")
    a.add_argument("--authority", default="localhost", help=":authority of requests (request profile)")
    a.add_argument("--path", default="/", help="path of GET requests")
    a.add_argument("--echo-path", default="/echo", help="path that answers a POST with its body")
    a.add_argument("--bytes-path", default="/bytes/64", help="path whose response has at least 4 bytes of body")
    a.add_argument("--connect-target", help="host:port of an echo server (connect profile)")
    a.add_argument("--timeout", type=float, default=3.0, help="seconds each wait may take")
    a.add_argument("--only", help="comma-separated case ids or id prefixes (e.g. http2/6.5,hpack/)")
    a.add_argument("--list", action="store_true", help="print the cases of the profile and exit")
    opts = a.parse_args(argv)
    if opts.tls and not (opts.cert and opts.key and opts.ca):
        a.error("--tls needs --cert, --key and --ca")
    if opts.profile == "connect" and not opts.connect_target:
        a.error("--profile connect needs --connect-target host:port")
    selected = [cs for cs in CASES if opts.profile in cs[3]]
    if opts.only:
        prefixes = [s.strip() for s in opts.only.split(",") if s.strip()]
        selected = [cs for cs in selected if any(cs[0] == x or cs[0].startswith(x) for x in prefixes)]
    if opts.list:
        for cid, title, expected, _, _ in selected:
            print("%s\t%s\t%s" % (cid, title, expected))
        return 0
    profile = Profile(opts)
    failed = 0
    for cid, title, expected, _, fn in selected:
        observed = "as expected"
        try:
            fn(opts, profile)
            ok = True
        except Failure as e:
            ok, observed = False, str(e)
        except (Closed, Timeout) as e:
            ok, observed = False, "%s: %s" % (type(e).__name__, e)
        except Exception as e:  # a bug in the case or an unexpected frame: a failure, named
            ok, observed = False, "%s: %s" % (type(e).__name__, e)
        finally:
            while OPEN:
                OPEN.pop().close()
        failed += 0 if ok else 1
        print("RESULT\t%s\t%s\t%s\t%s\t%s" % (cid, "PASS" if ok else "FAIL", title, expected,
                                             observed.replace("\t", " ").replace("\n", " ")), flush=True)
    print("SUMMARY passed=%d failed=%d" % (len(selected) - failed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
