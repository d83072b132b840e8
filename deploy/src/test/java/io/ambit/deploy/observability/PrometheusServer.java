package io.ambit.deploy.observability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.deploy.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Prometheus (Debian's {@code prometheus} binary) for one test: a temp config that scrapes the
 * given targets every second and evaluates the given rules file, a temp TSDB, a loopback address, and a
 * bounded lifetime ({@code timeout}) so it cannot outlive a test JVM that dies.
 */
final class PrometheusServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path log;
    private final URI base;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, Path log, URI base) {
        this.process = process;
        this.log = log;
        this.base = base;
    }

    /**
     * Starts Prometheus on {@code host} (a free port) and waits until it is ready.
     *
     * @param dir      where the config, TSDB and log go
     * @param targets  {@code host:port} of each {@code /metrics} endpoint (job {@code ambit-ztunnel})
     * @param rules    a rules file to load, evaluated every second
     * @param lifetime after this, the process is killed whatever happens to the test
     */
    static PrometheusServer start(Path dir, String host, List<String> targets, Path rules, Duration lifetime)
            throws Exception {
        return start(dir, host, Map.of("ambit-ztunnel", targets), rules, lifetime);
    }

    /**
     * As the other {@code start}, with one scrape job per entry of {@code jobs} (job name → {@code host:port}
     * of each {@code /metrics} endpoint), so ztunnels and waypoints are told apart by {@code job}.
     */
    static PrometheusServer start(Path dir, String host, Map<String, List<String>> jobs, Path rules, Duration lifetime)
            throws Exception {
        Path binary = Tools.require("prometheus", "prometheus");
        int port;
        try (var probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files:
                - %s
                scrape_configs:
                %s""".formatted(rules.toAbsolutePath(), scrapeConfigs(jobs)));
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(
                        "timeout",
                        "--kill-after=5",
                        Long.toString(lifetime.toSeconds()),
                        binary.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("tsdb"),
                        "--web.listen-address=" + host + ":" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        var server = new PrometheusServer(p, log, URI.create("http://" + host + ":" + port));
        try {
            server.awaitReady(Duration.ofSeconds(30));
        } catch (Throwable t) {
            server.close();
            throw t;
        }
        return server;
    }

    private static String scrapeConfigs(Map<String, List<String>> jobs) {
        var yaml = new StringBuilder();
        new TreeMap<>(jobs)
                .forEach((job, targets) -> yaml.append("""
                - job_name: %s
                  metrics_path: /metrics
                  static_configs:
                  - targets: [%s]
                """.formatted(
                                job, targets.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(", ")))));
        return yaml.toString();
    }

    private void awaitReady(Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                var r = http.send(
                        HttpRequest.newBuilder(base.resolve("/-/ready"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("prometheus not ready within " + limit + ":\n" + log());
    }

    /**
     * {@code GET /api/v1/query}: the whole answer, {@code status} {@code success} or {@code error} (a PromQL
     * error is {@code errorType: bad_data}, with HTTP 400).
     */
    JsonNode query(String promql) throws Exception {
        var r = http.send(
                HttpRequest.newBuilder(base.resolve(
                                "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** {@code GET /api/v1/rules}. */
    JsonNode rules() throws Exception {
        var r = http.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/rules"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** {@code GET /api/v1/targets}. */
    JsonNode targets() throws Exception {
        var r = http.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/targets"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        http.close();
        process.destroy(); // SIGTERM to timeout(1), which passes it on to prometheus
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                // by PID: prometheus itself (our child's child), then timeout(1)
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
