package io.ambit.waypoint.tracing;

import io.ambit.waypoint.telemetry.RequestObserver;
import io.ambit.waypoint.telemetry.RequestRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the waypoint's sampled spans to Zipkin (JSON v2, {@code POST /api/v2/spans}), as the article's
 * {@code tracing.zipkin.address} asks. The data path only offers a span to a bounded queue (dropped and
 * counted when full, never waiting); one daemon thread posts batches every second or every 200 spans. A
 * Zipkin that is down costs dropped spans, nothing else.
 */
public final class ZipkinExporter implements RequestObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZipkinExporter.class);
    private static final int QUEUE = 10_000;
    private static final int BATCH = 200;

    private final URI endpoint;
    private final String serviceName;
    private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread sender;
    private volatile boolean closed;
    /** Spans dropped because the queue was full or Zipkin refused them. */
    public final LongAdder dropped = new LongAdder();
    /** Spans Zipkin accepted. */
    public final LongAdder sent = new LongAdder();

    private ZipkinExporter(URI endpoint, String serviceName) {
        this.endpoint = endpoint;
        this.serviceName = serviceName;
        this.sender = Thread.ofPlatform().daemon().name("ambit-zipkin").unstarted(this::run);
    }

    /** Starts exporting to {@code endpoint} as {@code serviceName} (Envoy: the waypoint's {@code name.namespace}). */
    public static ZipkinExporter start(URI endpoint, String serviceName) {
        ZipkinExporter e = new ZipkinExporter(endpoint, serviceName);
        e.sender.start();
        return e;
    }

    @Override
    public void completed(RequestRecord r) {
        if (r.trace() == null || !r.trace().sampled() || closed) {
            return;
        }
        if (!queue.offer(span(r))) {
            dropped.increment();
        }
    }

    /** One span in Zipkin's v2 JSON model. */
    String span(RequestRecord r) {
        TraceContext t = r.trace();
        long startMicros = r.start().getEpochSecond() * 1_000_000 + r.start().getNano() / 1000;
        StringBuilder b = new StringBuilder(512).append('{');
        b.append("\"traceId\":\"").append(t.traceId()).append('"');
        b.append(",\"id\":\"").append(t.spanId()).append('"');
        if (t.parentId() != null) {
            b.append(",\"parentId\":\"").append(t.parentId()).append('"');
        }
        b.append(",\"kind\":\"SERVER\"");
        b.append(",\"name\":")
                .append(quote(r.target().service().hostname() + ":" + r.target().servicePort() + "/*"));
        b.append(",\"timestamp\":").append(startMicros);
        b.append(",\"duration\":").append(Math.max(1, r.durationNanos() / 1000));
        b.append(",\"localEndpoint\":{\"serviceName\":")
                .append(quote(serviceName))
                .append('}');
        String ip = r.peer().sourceIp().toString();
        b.append(",\"remoteEndpoint\":{\"")
                .append(ip.contains(":") ? "ipv6" : "ipv4")
                .append("\":")
                .append(quote(ip))
                .append('}');
        b.append(",\"tags\":{");
        b.append("\"http.method\":").append(quote(r.method()));
        b.append(",\"http.url\":").append(quote("http://" + r.authority() + r.path()));
        b.append(",\"http.protocol\":").append(quote(r.protocol()));
        b.append(",\"http.status_code\":").append(quote(Integer.toString(r.status())));
        b.append(",\"response_flags\":").append(quote(r.flag().code()));
        b.append(",\"request_size\":").append(quote(Long.toString(r.bytesReceived())));
        b.append(",\"response_size\":").append(quote(Long.toString(r.bytesSent())));
        b.append(",\"guid:x-request-id\":").append(quote(r.requestId() == null ? "" : r.requestId()));
        b.append(",\"peer.principal\":").append(quote(r.peer().identity().toString()));
        if (r.endpoint() != null) {
            b.append(",\"upstream_host\":").append(quote(r.endpoint().authority()));
        }
        if (r.decision() != null && r.decision().policy() != null) {
            b.append(",\"authorization.policy\":").append(quote(r.decision().policy()));
        }
        if (r.grpcStatus() != null) {
            b.append(",\"grpc.status_code\":").append(quote(r.grpcStatus()));
        }
        if (r.status() >= 500 || r.status() == 0) {
            b.append(",\"error\":\"true\"");
        }
        b.append("}}");
        return b.toString();
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private void run() {
        List<String> batch = new ArrayList<>(BATCH);
        while (!closed || !queue.isEmpty()) {
            try {
                String first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                post(batch);
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
            } finally {
                batch.clear();
            }
        }
    }

    private void post(List<String> spans) {
        String body = "[" + String.join(",", spans) + "]";
        try {
            HttpResponse<Void> response = client.send(
                    HttpRequest.newBuilder(endpoint)
                            .timeout(Duration.ofSeconds(5))
                            .header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() / 100 == 2) {
                sent.add(spans.size());
            } else {
                dropped.add(spans.size());
                log.debug("zipkin {} answered {}", endpoint, response.statusCode());
            }
        } catch (java.io.IOException e) {
            dropped.add(spans.size());
            log.debug("zipkin {} unreachable: {}", endpoint, e.toString());
        } catch (InterruptedException e) {
            dropped.add(spans.size());
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        sender.interrupt();
        try {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
