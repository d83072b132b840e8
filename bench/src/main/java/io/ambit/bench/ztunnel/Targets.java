package io.ambit.bench.ztunnel;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The servers the load goes to, in their own process so that their CPU is not the proxy's: an echo
 * server (writes back whatever it reads), a sink (reads {@link #FRAME}-byte frames until one whose first
 * byte is 1, then answers with the number of bytes it read as 8 bytes, big-endian) and, when given a port,
 * a keep-alive HTTP/1.1 server answering every request with 200 and a small body ({@link Http1}). The sink's framing
 * ends a bulk run without a half-close, so the count does not depend on how a proxy relays FIN.
 * One virtual thread per connection; the process runs until killed or {@code maxSeconds} pass.
 */
final class Targets {
    static final int FRAME = 64 * 1024;

    private Targets() {}

    /**
     * @param httpPort the HTTP server's port, or 0 for none
     * @param httpBody the bytes of every HTTP response body
     */
    static void serve(InetAddress bind, int echoPort, int sinkPort, int httpPort, int httpBody, long maxSeconds)
            throws Exception {
        var echo = listen(bind, echoPort, 4096);
        var sink = listen(bind, sinkPort, 256);
        Thread.ofVirtual().start(() -> accept(echo, Targets::echo));
        Thread.ofVirtual().start(() -> accept(sink, Targets::sink));
        String http = "";
        if (httpPort > 0) {
            var server = listen(bind, httpPort, 4096);
            byte[] response = Http1.response(httpBody);
            Thread.ofVirtual().start(() -> accept(server, socket -> http(socket, response)));
            http = " http=" + bind.getHostAddress() + ":" + httpPort;
        }
        System.out.println("ready echo=" + bind.getHostAddress() + ":" + echoPort + " sink=" + bind.getHostAddress()
                + ":" + sinkPort + http);
        System.out.flush();
        Thread.sleep(maxSeconds * 1000);
        System.out.println("max-seconds reached, exiting");
        System.exit(0);
    }

    private static ServerSocket listen(InetAddress bind, int port, int backlog) throws IOException {
        var server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(bind, port), backlog);
        return server;
    }

    private interface Connection {
        void handle(Socket socket) throws IOException;
    }

    private static void accept(ServerSocket server, Connection handler) {
        while (true) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                System.err.println("accept on " + server.getLocalSocketAddress() + ": " + e);
                return;
            }
            Thread.ofVirtual().start(() -> {
                try (socket) {
                    socket.setTcpNoDelay(true);
                    handler.handle(socket);
                } catch (IOException e) {
                    // the client went away: nothing to report per connection
                }
            });
        }
    }

    private static void echo(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
        }
    }

    /** Answers each request (pipelined ones in order) with {@code response}; ends with the client. */
    private static void http(Socket socket, byte[] response) throws IOException {
        InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 4096);
        OutputStream out = socket.getOutputStream();
        byte[] head = new byte[Http1.MAX_HEAD];
        while (Http1.readHead(in, head) > 0) {
            out.write(response); // GETs carry no body; the head is all there is to read
        }
    }

    private static void sink(Socket socket) throws IOException {
        var in = new DataInputStream(socket.getInputStream());
        byte[] frame = new byte[FRAME];
        long total = 0;
        while (true) {
            try {
                in.readFully(frame);
            } catch (EOFException e) {
                return; // no last frame: the client gave up
            }
            total += FRAME;
            if (frame[0] == 1) {
                break;
            }
        }
        var out = new DataOutputStream(socket.getOutputStream());
        out.writeLong(total);
        out.flush();
    }
}
