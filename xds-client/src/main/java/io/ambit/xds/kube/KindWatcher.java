package io.ambit.xds.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one kind in step with the API server, as client-go's reflector does: list (in pages) to get every
 * object and the collection's resourceVersion, then watch from that resourceVersion with bookmarks, moving
 * the resourceVersion forward with every event and bookmark. When the server closes the watch (its
 * {@code timeoutSeconds}), watch again from the last resourceVersion; when it answers 410 Gone (the version
 * is too old, compacted away), list again; when a request fails, wait (doubling, bounded) and retry. A
 * resource that does not exist (404: a CRD not installed) is "no objects" and looked for again later.
 *
 * <p>Runs on its own virtual thread; blocking reads are fine there. What it learns goes to a {@link
 * WatchSink} in order.
 */
final class KindWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KindWatcher.class);

    /** The server said 410 Gone: the resourceVersion is no longer served; list again. */
    static final class GoneException extends IOException {
        GoneException(String message) {
            super(message);
        }
    }

    /** The server said 404 for the collection: the resource (CRD) is not installed. */
    static final class AbsentException extends IOException {
        AbsentException(String message) {
            super(message);
        }
    }

    private final KubeApi api;
    private final ApiKind kind;
    private final WatchSink sink;
    private final WatchLimits limits;
    private final KubeMetrics metrics;
    private final ScheduledExecutorService timer;
    private volatile boolean closed;
    private volatile InputStream current;
    private volatile long lastActivity;
    private Thread thread;

    // watcher thread only
    private String resourceVersion;
    private Duration nextBackoff;

    KindWatcher(
            KubeApi api,
            ApiKind kind,
            WatchSink sink,
            WatchLimits limits,
            KubeMetrics metrics,
            ScheduledExecutorService timer) {
        this.api = api;
        this.kind = kind;
        this.sink = sink;
        this.limits = limits;
        this.metrics = metrics;
        this.timer = timer;
        this.nextBackoff = limits.initialBackoff();
    }

    void start() {
        thread = Thread.ofVirtual().name("ambit-kube-watch-" + kind.plural()).start(this::run);
    }

    private void run() {
        String reason = "start";
        while (!closed) {
            try {
                if (resourceVersion == null) {
                    metrics.relist(kind, reason);
                    list();
                }
                long began = System.nanoTime();
                int events = watch();
                if (events == 0 && System.nanoTime() - began < TimeUnit.SECONDS.toNanos(1)) {
                    // a server that ends every watch at once must not make this loop spin
                    throw new IOException("the watch ended at once without an event");
                }
                nextBackoff = limits.initialBackoff(); // a watch that worked: the next failure starts small
            } catch (GoneException e) {
                log.info("{}: {}; listing again", kind, e.getMessage());
                resourceVersion = null;
                reason = "gone";
            } catch (AbsentException e) {
                if (closed) {
                    return;
                }
                log.info(
                        "{}: {}; treated as none, looked for again in {}",
                        kind,
                        e.getMessage(),
                        limits.absentRecheck());
                sink.listed(kind, List.of());
                resourceVersion = null;
                reason = "absent";
                pause(limits.absentRecheck());
            } catch (IOException | KubeJson.BadJsonException | RuntimeException e) {
                if (closed) {
                    return;
                }
                metrics.failure(kind);
                Duration wait = nextBackoff;
                nextBackoff = nextBackoff.multipliedBy(2).compareTo(limits.maxBackoff()) > 0
                        ? limits.maxBackoff()
                        : nextBackoff.multipliedBy(2);
                log.warn("{}: {}; retrying in {} ms", kind, message(e), wait.toMillis());
                if (e instanceof KubeJson.BadJsonException || e instanceof BoundedLines.LineTooLongException) {
                    // the stream cannot be trusted past a garbled event: start over from a full list
                    resourceVersion = null;
                    reason = "error";
                }
                pause(wait);
            } catch (InterruptedException e) {
                return; // closed
            }
        }
    }

    /** Lists every object in pages; hands them over whole, and remembers the collection's resourceVersion. */
    private void list() throws IOException, InterruptedException, KubeJson.BadJsonException {
        var objects = new ArrayList<Map<String, Object>>();
        String cont = null;
        String version;
        int pages = 0;
        do {
            String query = "limit=" + limits.pageSize()
                    + (cont == null ? "" : "&continue=" + URLEncoder.encode(cont, StandardCharsets.UTF_8));
            var response = api.get(kind.url(query), limits.requestTimeout());
            String body;
            try (var in = response.body()) {
                check(response, in, "list");
                body = read(in, limits.maxPageBytes());
            }
            var page = KubeJson.object(body, "a list of " + kind.kind());
            var meta = KubeJson.map(page, "metadata");
            version = KubeJson.string(meta, "resourceVersion");
            cont = KubeJson.string(meta, "continue");
            for (Object item : KubeJson.list(page, "items")) {
                if (item instanceof Map<?, ?> m) {
                    objects.add(withKind(KubeJson.cast(m)));
                }
            }
            if (objects.size() > limits.maxObjects()) {
                throw new IOException("more than " + limits.maxObjects() + " objects of " + kind.kind()
                        + " (expected: at most that many; raise the limit or remove objects)");
            }
            if (++pages > 100_000) {
                throw new IOException("the list never ends (expected: a last page without continue)");
            }
        } while (cont != null && !cont.isEmpty());
        if (version == null || version.isEmpty()) {
            throw new IOException("the list of " + kind.kind() + " has no metadata.resourceVersion");
        }
        sink.listed(kind, objects);
        resourceVersion = version;
        log.debug("{}: listed {} at resourceVersion {}", kind, objects.size(), version);
    }

    /**
     * Watches from the last resourceVersion until the server ends the watch, or it fails.
     *
     * @return how many events (bookmarks included) arrived
     */
    private int watch() throws IOException, InterruptedException, KubeJson.BadJsonException {
        String query = "watch=1&allowWatchBookmarks=true&resourceVersion="
                + URLEncoder.encode(resourceVersion, StandardCharsets.UTF_8) + "&timeoutSeconds="
                + limits.watchSeconds();
        var response = api.get(kind.url(query), limits.requestTimeout());
        var in = response.body();
        current = in;
        lastActivity = System.nanoTime();
        var idleCheck = timer.scheduleWithFixedDelay(
                this::closeIfIdle,
                limits.idleTimeout().toMillis(),
                Math.max(1, limits.idleTimeout().toMillis() / 4),
                TimeUnit.MILLISECONDS);
        try (in) {
            check(response, in, "watch");
            var lines = new BoundedLines(in, limits.maxEventBytes());
            String line;
            int events = 0;
            while (!closed && (line = lines.next()) != null) {
                lastActivity = System.nanoTime();
                events++;
                event(KubeJson.object(line, "a watch event of " + kind.kind()));
            }
            return events;
        } finally {
            idleCheck.cancel(false);
            current = null;
        }
    }

    private void event(Map<String, Object> event) throws IOException, KubeJson.BadJsonException {
        String type = KubeJson.string(event, "type");
        var object = KubeJson.map(event, "object");
        metrics.event(kind, type == null ? "none" : type);
        switch (type == null ? "" : type) {
            case "ADDED", "MODIFIED", "DELETED" -> {
                sink.changed(kind, type, withKind(object));
                advance(object);
            }
            case "BOOKMARK" -> advance(object);
            case "ERROR" -> {
                // a Status object: 410 means the version expired while watching
                int code = object.get("code") instanceof Number n ? n.intValue() : 0;
                String message = KubeJson.string(object, "message");
                if (code == 410) {
                    throw new GoneException("watch expired: " + message);
                }
                throw new IOException("watch error " + code + ": " + message);
            }
            default ->
                throw new KubeJson.BadJsonException(
                        "watch event type \"" + type + "\" (expected: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR)");
        }
    }

    private void advance(Map<String, Object> object) {
        String v = KubeJson.string(KubeJson.map(object, "metadata"), "resourceVersion");
        if (v != null && !v.isEmpty()) {
            resourceVersion = v;
        }
    }

    /** List items often come without apiVersion and kind: they are the collection's. */
    private Map<String, Object> withKind(Map<String, Object> object) {
        if (object.get("kind") instanceof String && object.get("apiVersion") instanceof String) {
            return object;
        }
        var out = new LinkedHashMap<String, Object>();
        out.put("apiVersion", kind.apiVersion());
        out.put("kind", kind.kind());
        out.putAll(object);
        out.put("apiVersion", kind.apiVersion());
        out.put("kind", kind.kind());
        return out;
    }

    private void check(HttpResponse<InputStream> response, InputStream in, String what) throws IOException {
        int code = response.statusCode();
        if (code == 200) {
            return;
        }
        String body = read(in, 4096, true);
        if (code == 410) {
            throw new GoneException(what + " answered 410 Gone");
        }
        if (code == 404) {
            throw new AbsentException("the resource " + kind.apiVersion() + "/" + kind.plural() + " does not exist");
        }
        throw new IOException(what + " of " + kind.kind() + " answered HTTP " + code
                + (code == 401 || code == 403
                        ? " (expected: a token whose service account may get, list and watch " + kind.plural() + ")"
                        : "")
                + ": " + body.strip());
    }

    /** At most {@code max} bytes of {@code in}, as text; more is an error. */
    private static String read(InputStream in, int max) throws IOException {
        return read(in, max, false);
    }

    private static String read(InputStream in, int max, boolean truncate) throws IOException {
        var out = new ByteArrayOutputStream();
        byte[] b = new byte[16 * 1024];
        int n;
        while ((n = in.read(b)) >= 0) {
            if (out.size() + n > max) {
                if (truncate) {
                    out.write(b, 0, max - out.size());
                    break;
                }
                throw new IOException("a response is longer than " + max + " bytes (expected: at most that)");
            }
            out.write(b, 0, n);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private void closeIfIdle() {
        var in = current;
        if (in != null
                && System.nanoTime() - lastActivity > limits.idleTimeout().toNanos()) {
            log.warn("{}: the watch sent nothing for {}; reconnecting", kind, limits.idleTimeout());
            closeQuietly(in);
        }
    }

    private void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // closing to unblock a read: nothing else to do
        }
    }

    @Override
    public void close() {
        closed = true;
        var in = current;
        if (in != null) {
            closeQuietly(in);
        }
        if (thread != null) {
            thread.interrupt();
        }
    }
}
