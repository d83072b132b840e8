package io.ambit.waypoint.http1;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder with the framing rules a proxy needs against request smuggling (security cases
 * 17–18). Netty already refuses two Content-Length values, whitespace before a header colon, a header
 * without colon, bare LF line endings (strict line parsing) and invalid header characters; this adds:
 *
 * <ul>
 *   <li>Content-Length together with Transfer-Encoding is refused (Netty would drop the Content-Length
 *       and go on; an upstream that reads it the other way round would see a second request: CL.TE/TE.CL);
 *   <li>Transfer-Encoding must be exactly one {@code chunked} (no {@code xchunked}, no lists, no second
 *       header line: the TE.TE obfuscations), and only on HTTP/1.1.
 * </ul>
 *
 * A refused head comes out with a failed {@code DecoderResult}; the connection answers 400 and closes, and
 * the decoder discards everything after it.
 *
 * <p>It also counts the requests it has read to their end ({@link #requestsEnded()}). The parts it decodes
 * wait in a flow-control queue until the exchange asks for them, so when the client half-closes, only the
 * decoder can tell whether the request being served had already arrived in full (serve it, then close) or
 * never can (end it now: Envoy's downstream termination).
 */
public final class StrictRequestDecoder extends HttpRequestDecoder {
    private long ended;
    private boolean inDecodeLast;

    public StrictRequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /**
     * Requests decoded to their last part so far (a refused head counts: it is a whole message). The
     * first {@code n} requests of the connection are complete when this is at least {@code n}.
     */
    public long requestsEnded() {
        return ended;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        int from = out.size();
        super.decode(ctx, buffer, out);
        if (!inDecodeLast) {
            count(out, from);
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        // The input ended: what is left is decoded once more (through decode, counted here instead).
        int from = out.size();
        inDecodeLast = true;
        try {
            super.decodeLast(ctx, in, out);
        } finally {
            inDecodeLast = false;
        }
        count(out, from);
    }

    private void count(List<Object> out, int from) {
        for (int i = from; i < out.size(); i++) {
            if (out.get(i) instanceof LastHttpContent) {
                ended++;
            }
        }
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        // Netty reads the request line as ISO-8859-1 and only splits it on whitespace: "/a\u001b" or a raw
        // 0xff byte would reach policy matching and the upstream as is (found by Http1DecoderFuzzTest).
        // RFC 9112 §3.2: the request-target is visible ASCII; anything else is a 400 here.
        String target = initialLine[1];
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException(String.format(
                        "request target has the byte 0x%02x at %d (expected visible ASCII; escape others as %%XX)",
                        (int) c, i));
            }
        }
        return super.createMessage(initialLine);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        // Called once per head, after the headers are read and before the body framing is chosen.
        List<String> te = msg.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!te.isEmpty()) {
            if (msg.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
                throw new IllegalArgumentException(
                        "both Content-Length and Transfer-Encoding (expected one of them: request smuggling)");
            }
            if (te.size() != 1 || !te.getFirst().trim().equalsIgnoreCase("chunked")) {
                throw new IllegalArgumentException(
                        "Transfer-Encoding: " + String.join(", ", te) + " (expected exactly: chunked)");
            }
            if (msg.protocolVersion() != HttpVersion.HTTP_1_1) {
                throw new IllegalArgumentException(
                        "Transfer-Encoding on " + msg.protocolVersion() + " (expected: HTTP/1.1)");
            }
        }
        return super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        // Not reached (refused above); never resolve the conflict silently.
        throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
    }
}
