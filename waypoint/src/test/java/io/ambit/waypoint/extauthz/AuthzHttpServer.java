package io.ambit.waypoint.extauthz;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A real ext_authz HTTP server on loopback (127.93.2.x, 127.98.x.y): records every check it receives and answers
 * with whatever the test scripts.
 */
final class AuthzHttpServer implements AutoCloseable {
    /** A check as the server received it; header names lower-case. */
    record Received(String method, String uri, Map<String, List<String>> headers, byte[] body, int remotePort) {
        String header(String name) {
            var v = headers.get(name);
            return v == null ? null : String.join("|", v);
        }
    }

    /** The answer to send. */
    record Reply(int status, List<Map.Entry<String, String>> headers, String body, long delayMillis) {
        static Reply of(int status, String body, String... headers) {
            var h = new ArrayList<Map.Entry<String, String>>();
            for (int i = 0; i < headers.length; i += 2) {
                h.add(Map.entry(headers[i], headers[i + 1]));
            }
            return new Reply(status, h, body, 0);
        }

        Reply delayed(long millis) {
            return new Reply(status, headers, body, millis);
        }
    }

    final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
    // Platform threads: the JDK server on virtual threads hangs writing a large response (seen on JDK 25).
    private final java.util.concurrent.ExecutorService pool = Executors.newCachedThreadPool();
    private volatile Function<Received, Reply> responder = r -> Reply.of(200, "");
    private HttpServer server;
    private final InetSocketAddress bound;

    AuthzHttpServer(String address) throws IOException {
        this(new InetSocketAddress(address, 0));
    }

    /** On a fixed port: a workload's app port behind its HBONE node. */
    AuthzHttpServer(String address, int port) throws IOException {
        this(new InetSocketAddress(address, port));
    }

    private AuthzHttpServer(InetSocketAddress at) throws IOException {
        server = start(at);
        bound = server.getAddress();
    }

    private HttpServer start(InetSocketAddress at) throws IOException {
        var s = HttpServer.create(at, 64);
        s.setExecutor(pool);
        s.createContext("/", exchange -> {
            var headers = new LinkedHashMap<String, List<String>>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
            var r = new Received(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().toString(),
                    headers,
                    exchange.getRequestBody().readAllBytes(),
                    exchange.getRemoteAddress().getPort());
            received.add(r);
            Reply reply = responder.apply(r);
            if (reply.delayMillis() > 0) {
                try {
                    Thread.sleep(reply.delayMillis()); // a slow provider, on purpose
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            reply.headers().forEach(e -> exchange.getResponseHeaders().add(e.getKey(), e.getValue()));
            byte[] b = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(reply.status(), b.length == 0 ? -1 : b.length);
            if (b.length > 0) {
                exchange.getResponseBody().write(b);
            }
            exchange.close();
        });
        s.start();
        return s;
    }

    void respond(Function<Received, Reply> f) {
        responder = f;
    }

    String host() {
        return bound.getAddress().getHostAddress();
    }

    int port() {
        return bound.getPort();
    }

    /** Stops and starts again on the same address: every connection the client pooled is now dead. */
    void restart() throws IOException {
        server.stop(0);
        server = start(bound);
    }

    Received last() {
        Received last = null;
        for (Received r : received) {
            last = r;
        }
        return last;
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
