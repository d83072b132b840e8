package io.ambit.waypoint.answer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Turns a {@link LocalReply} into the response the client gets, in the client's protocol. */
public final class Replies {
    private Replies() {}

    /**
     * The response for {@code reply}. For a gRPC request it is gRPC's trailers-only form: HTTP 200 with
     * {@code content-type: application/grpc}, {@code grpc-status} and {@code grpc-message} and no body
     * (over HTTP/2 a single HEADERS frame with END_STREAM), because a gRPC client reads the status from
     * there, not from {@code :status}.
     *
     * @param grpc whether the request was gRPC ({@code content-type: application/grpc...})
     * @param close whether to add {@code connection: close} (HTTP/1.1 only)
     * @return a response the caller writes (and so releases)
     */
    public static FullHttpResponse toResponse(LocalReply reply, boolean grpc, boolean close, ByteBufAllocator alloc) {
        FullHttpResponse response;
        if (grpc) {
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, alloc.buffer(0));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                    .set("grpc-status", Integer.toString(reply.grpcStatus()))
                    .set("grpc-message", percentEncode(reply.body()));
        } else {
            byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
            ByteBuf body = alloc.buffer(bytes.length).writeBytes(bytes);
            response =
                    new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()), body);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        }
        // A line replaces the waypoint's default of its name (content-type), then repeats are kept
        // (two set-cookie from an authorizer's denial); gRPC's own status headers are never overridden.
        var replaced = new java.util.HashSet<String>();
        for (var line : reply.headerLines()) {
            String name = line.getKey();
            if (grpc && (name.equals("grpc-status") || name.equals("grpc-message") || name.equals("content-type"))) {
                continue;
            }
            if (name.equals("content-length") || name.equals("transfer-encoding")) {
                continue; // framing is ours: the body above is what is sent
            }
            if (replaced.add(name)) {
                response.headers().set(name, line.getValue());
            } else {
                response.headers().add(name, line.getValue());
            }
        }
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    /** gRPC's percent-encoding of {@code grpc-message}: printable ASCII except {@code %} as is, the rest as UTF-8 escapes. */
    static String percentEncode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
