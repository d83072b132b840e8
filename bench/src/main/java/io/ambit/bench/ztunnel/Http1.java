package io.ambit.bench.ztunnel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The small slice of HTTP/1.1 the ztunnel benchmark speaks: a fixed keep-alive {@code GET} and a response
 * with a {@code Content-Length} body (what a load generator such as fortio sends to a small echo service).
 * Heads are bounded ({@link #MAX_HEAD} bytes), bodies by {@link #MAX_BODY}: a peer speaking anything else
 * fails the read with an {@link IOException} naming what was wrong.
 */
final class Http1 {
    static final int MAX_HEAD = 8 * 1024;
    static final int MAX_BODY = 1024 * 1024;

    private Http1() {}

    /** A keep-alive GET of {@code /} for {@code host}, as bytes on the wire. */
    static byte[] request(String host) {
        return ("GET / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: ambit-bench\r\nAccept: */*\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** A 200 response carrying {@code body} bytes of {@code 'x'}, as bytes on the wire. */
    static byte[] response(int body) {
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + body];
        System.arraycopy(head, 0, all, 0, head.length);
        java.util.Arrays.fill(all, head.length, all.length, (byte) 'x');
        return all;
    }

    /**
     * Reads one message head (up to and including the blank line) into {@code buf}.
     *
     * @return the head's length, or -1 at a clean end of stream before any byte of it
     * @throws IOException when the stream ends inside the head or the head is longer than {@code buf}
     */
    static int readHead(InputStream in, byte[] buf) throws IOException {
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (n == 0) {
                    return -1;
                }
                throw new IOException("end of stream inside an HTTP head after " + n + " bytes");
            }
            if (n == buf.length) {
                throw new IOException("HTTP head longer than " + buf.length + " bytes");
            }
            buf[n++] = (byte) b;
            if (n >= 4 && buf[n - 1] == '\n' && buf[n - 2] == '\r' && buf[n - 3] == '\n' && buf[n - 4] == '\r') {
                return n;
            }
        }
    }

    /**
     * Reads one response (head and body) and returns its status code.
     *
     * @throws IOException at end of stream, on a malformed head, or a missing or too large Content-Length
     */
    static int readResponse(InputStream in, byte[] head) throws IOException {
        int n = readHead(in, head);
        if (n < 0) {
            throw new IOException("connection closed before a response");
        }
        String text = new String(head, 0, n, StandardCharsets.US_ASCII);
        if (!text.startsWith("HTTP/1.1 ") || text.length() < 12) {
            throw new IOException(
                    "not an HTTP/1.1 status line: " + text.lines().findFirst().orElse(""));
        }
        int status = Integer.parseInt(text.substring(9, 12));
        long length = contentLength(text);
        if (length < 0 || length > MAX_BODY) {
            throw new IOException("Content-Length " + length + " (expected 0 to " + MAX_BODY + ")");
        }
        in.skipNBytes(length); // EOFException (an IOException) when the stream ends inside the body
        return status;
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                try {
                    return Long.parseLong(line.substring(colon + 1).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
