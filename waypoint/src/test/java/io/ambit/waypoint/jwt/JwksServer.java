package io.ambit.waypoint.jwt;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real JWKS endpoint on a loopback address of this module's range (127.93.x.x): serves whatever
 * document, status or delay the test sets, and counts the fetches.
 */
final class JwksServer implements AutoCloseable {
    private final HttpServer server;
    private final AtomicReference<String> body = new AtomicReference<>("{\"keys\":[]}");
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger hits = new AtomicInteger();
    private volatile long delayMillis;
    // Platform threads: the JDK server on virtual threads hangs writing a large response (seen on JDK 25).
    private final java.util.concurrent.ExecutorService pool = Executors.newCachedThreadPool();

    JwksServer(String address) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, 0), 16);
        server.setExecutor(pool);
        server.createContext("/", exchange -> {
            hits.incrementAndGet();
            try {
                if (delayMillis > 0) {
                    Thread.sleep(delayMillis); // the server is slow on purpose (a timeout test), not the test
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status.get(), b.length);
            exchange.getResponseBody().write(b);
            exchange.close();
        });
        server.start();
    }

    String uri(String path) {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":"
                + server.getAddress().getPort() + path;
    }

    void serve(String jwks) {
        body.set(jwks);
        status.set(200);
    }

    void fail(int httpStatus) {
        status.set(httpStatus);
    }

    void delay(long millis) {
        delayMillis = millis;
    }

    int hits() {
        return hits.get();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
