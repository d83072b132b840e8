package io.ambit.waypoint.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Exact bytes on a socket, for requests no well-behaved client would send. */
public final class RawHttp {
    private RawHttp() {}

    /** What came back, and whether the server closed the connection. */
    public record Exchange(String response, boolean closedByServer) {
        /** The status codes of the responses, in order. */
        public java.util.List<Integer> statuses() {
            var out = new java.util.ArrayList<Integer>();
            var m = java.util.regex.Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(response);
            while (m.find()) {
                out.add(Integer.parseInt(m.group(1)));
            }
            return out;
        }
    }

    /**
     * Sends {@code request} and reads until the server closes or {@code quietMillis} pass without a byte
     * (bounded overall by 10 s and 1 MiB).
     */
    public static Exchange send(InetSocketAddress to, String request, int quietMillis) throws IOException {
        return send(to, request.getBytes(StandardCharsets.ISO_8859_1), quietMillis);
    }

    public static Exchange send(InetSocketAddress to, byte[] request, int quietMillis) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(to, 5000);
            s.setSoTimeout(10_000); // the first byte may wait for a new tunnel (TLS, certificates)
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean closed = false;
            while (System.nanoTime() < deadline && out.size() < 1024 * 1024) {
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    break;
                } catch (IOException e) {
                    closed = true; // reset
                    break;
                }
                if (n < 0) {
                    closed = true;
                    break;
                }
                out.write(buf, 0, n);
                s.setSoTimeout(quietMillis);
            }
            return new Exchange(out.toString(StandardCharsets.ISO_8859_1), closed);
        }
    }
}
