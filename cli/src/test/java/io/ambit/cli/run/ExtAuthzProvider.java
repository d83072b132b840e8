package io.ambit.cli.run;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An {@code envoyExtAuthzHttp} provider, as a real HTTP server: {@code x-ext: deny} is refused with 403, a
 * body, two cookies, a reason header and a header the policy does not let through; anything else is allowed
 * with {@code x-ext-user} for the upstream; checks under {@code /slow/} are answered after 3 s. Records every
 * check it was asked.
 */
final class ExtAuthzProvider implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    final List<String> checks = new CopyOnWriteArrayList<>();

    ExtAuthzProvider(String ip) throws IOException {
        server = HttpServer.create(new InetSocketAddress(ip, 0), 0);
        server.createContext("/", exchange -> {
            checks.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            exchange.getRequestBody().readAllBytes();
            if (exchange.getRequestURI().getPath().startsWith("/slow/")) {
                try {
                    Thread.sleep(3000); // longer than that provider's timeout: the waypoint must not wait
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            var h = exchange.getResponseHeaders();
            if ("deny".equals(exchange.getRequestHeaders().getFirst("x-ext"))) {
                byte[] body = "denied by the ext-authz provider\n".getBytes(StandardCharsets.UTF_8);
                h.add("set-cookie", "session=gone; Path=/");
                h.add("set-cookie", "tracking=off; Path=/");
                h.add("x-ext-reason", "no-entry");
                h.add("x-internal-secret", "must-not-leak");
                h.add("content-type", "text/plain");
                exchange.sendResponseHeaders(403, body.length);
                exchange.getResponseBody().write(body);
            } else {
                h.add("x-ext-user", "alice");
                exchange.sendResponseHeaders(200, -1);
            }
            exchange.close();
        });
        server.setExecutor(executor);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
