package io.ambit.cli.run;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A workload's application: answers every request with the request line and every header it received
 * (one {@code name: value} line each, names lower-case), so a test sees what the waypoint forwarded.
 * Platform threads: the JDK server on virtual threads can hang on large responses (java-stack pitfall).
 */
final class HeaderEchoApp implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();

    HeaderEchoApp(String ip, int port, String name) throws IOException {
        server = HttpServer.create(new InetSocketAddress(ip, port), 0);
        server.createContext("/", exchange -> {
            var sb = new StringBuilder("app: ")
                    .append(name)
                    .append('\n')
                    .append("request: ")
                    .append(exchange.getRequestMethod())
                    .append(' ')
                    .append(exchange.getRequestURI().getRawPath());
            if (exchange.getRequestURI().getRawQuery() != null) {
                sb.append('?').append(exchange.getRequestURI().getRawQuery());
            }
            sb.append('\n');
            exchange.getRequestHeaders().forEach((k, values) -> {
                for (String v : values) {
                    sb.append(k.toLowerCase(Locale.ROOT)).append(": ").append(v).append('\n');
                }
            });
            exchange.getRequestBody().readAllBytes();
            byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(executor);
        server.start();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
