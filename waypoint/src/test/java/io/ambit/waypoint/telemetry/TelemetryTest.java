package io.ambit.waypoint.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the waypoint reports: Istio's request metrics scraped from {@code /metrics} (and the article's
 * dashboard query evaluated over them), readiness, W3C/B3 propagation, and spans received by a real HTTP
 * server standing in for Zipkin.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class TelemetryTest {
    private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN = "00f067aa0ba902b7";

    private static WaypointFixture mesh;
    private static HttpServer zipkin;
    private static final List<String> spans = new CopyOnWriteArrayList<>();
    private static InetSocketAddress asSleep;
    private static InetSocketAddress asCurl;

    @BeforeAll
    static void start() throws Exception {
        zipkin = HttpServer.create(new InetSocketAddress("127.92.5.50", 0), 0);
        zipkin.createContext("/api/v2/spans", exchange -> {
            spans.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(202, -1);
            exchange.close();
        });
        zipkin.start();
        URI endpoint = URI.create("http://127.92.5.50:" + zipkin.getAddress().getPort() + "/api/v2/spans");
        mesh = WaypointFixture.start(5, Policies.BASIC, c -> c.withTracing(100.0, endpoint));
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        asCurl = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (zipkin != null) {
            zipkin.stop(0);
        }
    }

    private static String get(InetSocketAddress at, String path) throws Exception {
        var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        var r = http.send(
                HttpRequest.newBuilder(
                                URI.create("http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    /** {@code istio_requests_total} samples whose labels include {@code match}, summed by {@code by}. */
    private static Map<String, Double> sumBy(String scrape, Map<String, String> match, String by) {
        Map<String, Double> out = new TreeMap<>();
        Matcher line =
                Pattern.compile("(?m)^istio_requests_total\\{(.*)} (\\S+)$").matcher(scrape);
        while (line.find()) {
            Map<String, String> labels = new TreeMap<>();
            Matcher l = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(line.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            if (match.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
                out.merge(labels.get(by), Double.parseDouble(line.group(2)), Double::sum);
            }
        }
        return out;
    }

    @Test
    void istioRequestMetricsAreScrapedWithIstiosLabels() throws Exception {
        for (int i = 0; i < 2; i++) {
            assertThat(RawHttp.send(asSleep, "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000)
                            .statuses())
                    .containsExactly(200);
        }
        assertThat(RawHttp.send(asCurl, "GET /get HTTP/1.1\r\nHost: httpbin\r\n\r\n", 1000)
                        .statuses())
                .containsExactly(403);
        var metricsAt = mesh.waypoint.adminAddresses().get(0);
        String[] scrape = new String[1];
        Await.until(
                () -> {
                    try {
                        scrape[0] = get(metricsAt, "/stats/prometheus");
                    } catch (Exception e) {
                        return false;
                    }
                    return !sumBy(scrape[0], Map.of("response_code", "403"), "destination_service_name")
                            .isEmpty();
                },
                "the 403 is counted");
        String text = scrape[0];
        assertThat(text).startsWith("200 ");
        // The article's dashboard: sum(rate(istio_requests_total{response_code="403"}[5m])) by
        // (destination_service_name)
        assertThat(sumBy(text, Map.of("response_code", "403"), "destination_service_name"))
                .containsEntry("httpbin", 1.0);
        assertThat(sumBy(
                        text,
                        Map.of(
                                "reporter", "waypoint",
                                "response_code", "200",
                                "source_principal", "spiffe://cluster.local/ns/default/sa/sleep",
                                "source_workload", "sleep",
                                "destination_service", "httpbin.default.svc.cluster.local",
                                "destination_service_namespace", "default",
                                "destination_canonical_service", "httpbin",
                                "connection_security_policy", "mutual_tls",
                                "request_protocol", "http",
                                "response_flags", "-"),
                        "destination_principal"))
                .hasEntrySatisfying("spiffe://cluster.local/ns/default/sa/httpbin", n -> assertThat(n)
                        .as("at least this test's two requests (others in the class add to it)")
                        .isGreaterThanOrEqualTo(2.0));
        assertThat(sumBy(text, Map.of("response_code", "403"), "destination_workload"))
                .containsOnlyKeys("unknown");
        assertThat(text)
                .contains("istio_request_duration_milliseconds_bucket{")
                .contains("le=\"0.5\"")
                .contains("le=\"3600000.0\"")
                .contains("istio_request_bytes_count{")
                .contains("istio_response_bytes_sum{");
        assertThat(get(mesh.waypoint.adminAddresses().get(1), "/healthz/ready")).isEqualTo("200 ready\n");
    }

    @Test
    void traceContextIsContinuedAndTheSpanExportedToZipkin() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        var r = RawHttp.send(
                asSleep,
                "GET /get?traced HTTP/1.1\r\nHost: httpbin\r\ntraceparent: 00-" + CLIENT_TRACE + "-" + CLIENT_SPAN
                        + "-01\r\n\r\n",
                1000);
        assertThat(r.statuses()).containsExactly(200);
        EchoBackend.Seen seen = null;
        for (int i = 0; i < 400 && seen == null; i++) {
            for (EchoBackend b : mesh.backends) {
                var s = b.seen.poll(5, TimeUnit.MILLISECONDS);
                if (s != null && s.uri().equals("/get?traced")) {
                    seen = s;
                }
            }
        }
        assertThat(seen).isNotNull();
        String traceparent = seen.header("traceparent");
        assertThat(traceparent).startsWith("00-" + CLIENT_TRACE + "-").endsWith("-01");
        String waypointSpan = traceparent.substring(36, 52);
        assertThat(waypointSpan).isNotEqualTo(CLIENT_SPAN);
        assertThat(seen.header("x-b3-traceid")).isEqualTo(CLIENT_TRACE);
        assertThat(seen.header("x-b3-parentspanid")).isEqualTo(CLIENT_SPAN);
        assertThat(seen.header("x-b3-sampled")).isEqualTo("1");
        Await.until(() -> spans.stream().anyMatch(s -> s.contains(CLIENT_TRACE)), "the span reaches Zipkin");
        String batch =
                spans.stream().filter(s -> s.contains(CLIENT_TRACE)).findFirst().orElseThrow();
        assertThat(batch)
                .startsWith("[{")
                .contains("\"id\":\"" + waypointSpan + "\"")
                .contains("\"parentId\":\"" + CLIENT_SPAN + "\"")
                .contains("\"kind\":\"SERVER\"")
                .contains("\"serviceName\":\"waypoint.default\"")
                .contains("\"http.status_code\":\"200\"");
    }

    @Test
    void b3HeadersAreContinuedToo() throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());
        var r = RawHttp.send(
                asSleep,
                "GET /get?b3 HTTP/1.1\r\nHost: httpbin\r\nx-b3-traceid: " + CLIENT_TRACE + "\r\nx-b3-spanid: "
                        + CLIENT_SPAN + "\r\nx-b3-sampled: 1\r\n\r\n",
                1000);
        assertThat(r.statuses()).containsExactly(200);
        assertThat(r.response())
                .contains("header traceparent: 00-" + CLIENT_TRACE + "-")
                .contains("header x-b3-parentspanid: " + CLIENT_SPAN);
    }
}
