package io.ambit.kubeapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.ambit.controlplane.ServingCertificate;
import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.SigningCa;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * A small Kubernetes API server for tests, speaking the parts of the protocol a list-and-watch client uses:
 * HTTPS with a CA written as {@code ca.crt} beside a bearer {@code token} (a service account directory),
 * collections registered like installed CRDs (others answer 404), one cluster-wide resourceVersion counter,
 * list with {@code limit}/{@code continue} pages and {@code fieldSelector=metadata.name=}, watch from a
 * resourceVersion replaying the history after it, then live {@code ADDED}/{@code MODIFIED}/{@code DELETED},
 * {@code BOOKMARK} on request, {@code timeoutSeconds}, and 410 Gone (an {@code ERROR} event, as the real server
 * sends it) for a version older than the last compaction. It can go down and come back on the same address,
 * rotate its token, and push a raw line into open watches. Objects are given as YAML or JSON text.
 */
public final class FakeKubeApiServer implements AutoCloseable {
    /** Writes the API server's JSON (maps, lists, strings, numbers, booleans). */
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CLOSE = "\u0000close";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One change, kept for watches that start from an older version. */
    private record Event(long version, String collection, String type, Map<String, Object> object) {}

    /** One open watch. */
    private record Watch(String collection, String namespace, String name, BlockingQueue<String> lines) {
        boolean matches(Map<String, Object> object) {
            var meta = meta(object);
            return (namespace == null || namespace.equals(meta.get("namespace")))
                    && (name == null || name.equals(meta.get("name")));
        }
    }

    private final InetSocketAddress requested;
    private final Path dir;
    private final SSLContext tls;
    private final Map<String, String> kinds = new HashMap<>(); // collection -> kind
    private final Map<String, TreeMap<String, Map<String, Object>>> store = new HashMap<>();
    private final List<Event> history = new ArrayList<>();
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> lists = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> watchRequests = new ConcurrentHashMap<>();
    private final AtomicInteger unauthorized = new AtomicInteger();
    private long version = 100;
    private long compactedBelow;
    private volatile String token;
    private final Set<String> tokens = ConcurrentHashMap.newKeySet();
    private volatile HttpsServer server;
    private InetSocketAddress bound;

    private FakeKubeApiServer(InetSocketAddress requested, Path dir, SSLContext tls) {
        this.requested = requested;
        this.dir = dir;
        this.tls = tls;
    }

    /**
     * Starts one on {@code listen} and writes {@code ca.crt} and {@code token} into {@code dir}, as a pod's
     * service account directory holds them.
     */
    public static FakeKubeApiServer start(InetSocketAddress listen, Path dir) throws Exception {
        Files.createDirectories(dir);
        var ca = SigningCa.newRoot("O=ambit test, CN=fake kube-apiserver CA", Instant.now(), Duration.ofDays(1));
        var cert = ServingCertificate.issue(
                ca,
                List.of("kubernetes.default.svc", "localhost"),
                List.of(listen.getAddress()),
                Instant.now(),
                Duration.ofDays(1));
        Files.writeString(dir.resolve("ca.crt"), Pem.encodeCertificates(List.of(ca.certificate())));
        var store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "test".toCharArray();
        store.setKeyEntry("server", cert.key(), password, cert.chain().toArray(X509Certificate[]::new));
        var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        var tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        var s = new FakeKubeApiServer(listen, dir, tls);
        s.rotateToken();
        s.expireOldTokens();
        s.up();
        return s;
    }

    /** The directory with {@code ca.crt} and {@code token}. */
    public Path serviceAccountDir() {
        return dir;
    }

    public synchronized URI url() {
        return URI.create("https://" + bound.getAddress().getHostAddress() + ":" + bound.getPort());
    }

    /** Installs a collection, as a CRD (or the core API) does: from now on it answers list and watch. */
    public synchronized void serve(String apiVersion, String plural, String kind) {
        String c = apiVersion + "/" + plural;
        kinds.put(c, kind);
        store.computeIfAbsent(c, k -> new TreeMap<>());
    }

    /** Creates or replaces the object in {@code text} (YAML or JSON); returns its new resourceVersion. */
    public synchronized String apply(String text) {
        var object = parse(text);
        String c = collectionOf(object);
        var meta = meta(object);
        String key = meta.getOrDefault("namespace", "") + "/" + meta.get("name");
        var objects = store.get(c);
        var before = objects.get(key);
        meta.put("resourceVersion", Long.toString(++version));
        if (before == null) {
            meta.put("uid", UUID.randomUUID().toString());
            meta.put(
                    "creationTimestamp",
                    Instant.now()
                            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                            .toString());
        } else {
            var old = meta(before);
            meta.put("uid", old.get("uid"));
            meta.put("creationTimestamp", old.get("creationTimestamp"));
        }
        objects.put(key, object);
        record(new Event(version, c, before == null ? "ADDED" : "MODIFIED", object));
        return Long.toString(version);
    }

    /** Deletes an object; false when there was none. */
    public synchronized boolean delete(String apiVersion, String kind, String namespace, String name) {
        String c = collection(apiVersion, kind);
        var removed = store.get(c).remove(namespace + "/" + name);
        if (removed == null) {
            return false;
        }
        var copy = new LinkedHashMap<>(removed);
        var meta = new LinkedHashMap<>(meta(removed));
        meta.put("resourceVersion", Long.toString(++version));
        copy.put("metadata", meta);
        record(new Event(version, c, "DELETED", copy));
        return true;
    }

    /**
     * Compacts the history, as etcd does: every open watch gets an {@code ERROR} event with code 410 and is
     * closed, and a watch from any version before now is answered the same way.
     */
    public synchronized void expireHistory() {
        compactedBelow = version + 1;
        history.clear();
        for (var w : watches) {
            w.lines()
                    .offer(json(Map.of("type", "ERROR", "object", status(410, "Expired", "too old resource version"))));
            w.lines().offer(CLOSE);
        }
    }

    /** Sends a {@code BOOKMARK} with the current resourceVersion to every open watch. */
    public synchronized void bookmark() {
        for (var w : watches) {
            var object = Map.of(
                    "kind", kinds.get(w.collection()),
                    "apiVersion", w.collection().substring(0, w.collection().lastIndexOf('/')),
                    "metadata", Map.of("resourceVersion", Long.toString(version)));
            w.lines().offer(json(Map.of("type", "BOOKMARK", "object", object)));
        }
    }

    /** Writes {@code line} as it is into every open watch of {@code plural} (e.g. garbage). */
    public void rawLine(String plural, String line) {
        for (var w : watches) {
            if (w.collection().endsWith("/" + plural)) {
                w.lines().offer(line);
            }
        }
    }

    /** Ends every open watch, as the server does at {@code timeoutSeconds}. */
    public void endWatches() {
        for (var w : watches) {
            w.lines().offer(CLOSE);
        }
    }

    /**
     * A new token in the {@code token} file, replaced at once as the kubelet does (write aside, then move); the
     * old one stays valid, as a real token does until it expires, until {@link #expireOldTokens()}.
     */
    public void rotateToken() throws IOException {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        String t = java.util.HexFormat.of().formatHex(b);
        Path aside = dir.resolve("..token.new");
        Files.writeString(aside, t + "\n");
        Files.move(
                aside,
                dir.resolve("token"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        tokens.add(t);
        token = t;
    }

    /** Only the newest token is accepted from now on; requests with an older one get 401. */
    public void expireOldTokens() {
        tokens.clear();
        tokens.add(token);
    }

    /** Stops answering: open watches end, new connections are refused. */
    public synchronized void down() {
        endWatches();
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Serves again on the same address. */
    public synchronized void up() throws IOException {
        if (server != null) {
            return;
        }
        var s = HttpsServer.create(bound != null ? bound : requested, 64);
        s.setHttpsConfigurator(new HttpsConfigurator(tls));
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.createContext("/", this::handle);
        s.start();
        server = s;
        bound = s.getAddress();
    }

    /** Lists of {@code plural} answered so far. */
    public int lists(String plural) {
        return lists.getOrDefault(plural, new AtomicInteger()).get();
    }

    /** Watches of {@code plural} started (and registered as open) so far. */
    public int watchRequests(String plural) {
        return watchRequests.getOrDefault(plural, new AtomicInteger()).get();
    }

    /** Watches of {@code plural} open now. */
    public int openWatches(String plural) {
        return (int) watches.stream()
                .filter(w -> w.collection().endsWith("/" + plural))
                .count();
    }

    /** Requests refused for a wrong or missing token. */
    public int unauthorized() {
        return unauthorized.get();
    }

    @Override
    public void close() {
        down();
    }

    // ---- serving

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.startsWith("Bearer ") || !tokens.contains(auth.substring("Bearer ".length()))) {
                unauthorized.incrementAndGet();
                reply(ex, 401, status(401, "Unauthorized", "Unauthorized"));
                return;
            }
            if (!ex.getRequestMethod().equals("GET")) {
                reply(ex, 405, status(405, "MethodNotAllowed", "only GET here"));
                return;
            }
            var target = route(ex.getRequestURI().getRawPath());
            var query = query(ex.getRequestURI().getRawQuery());
            String c = target == null ? null : target[0];
            synchronized (this) {
                if (c == null || !kinds.containsKey(c)) {
                    reply(ex, 404, status(404, "NotFound", "the server could not find the requested resource"));
                    return;
                }
            }
            String plural = c.substring(c.lastIndexOf('/') + 1);
            String name = null;
            String selector = query.get("fieldSelector");
            if (selector != null && selector.startsWith("metadata.name=")) {
                name = selector.substring("metadata.name=".length());
            }
            if ("1".equals(query.get("watch")) || "true".equals(query.get("watch"))) {
                watch(ex, c, plural, target[1], name, query);
            } else {
                lists.computeIfAbsent(plural, k -> new AtomicInteger()).incrementAndGet();
                list(ex, c, target[1], name, query);
            }
        }
    }

    private void list(HttpExchange ex, String c, String namespace, String name, Map<String, String> query)
            throws IOException {
        int limit = query.containsKey("limit") ? Integer.parseInt(query.get("limit")) : Integer.MAX_VALUE;
        int offset = query.containsKey("continue") ? Integer.parseInt(query.get("continue")) : 0;
        var items = new ArrayList<Object>();
        String cont = null;
        String rv;
        synchronized (this) {
            var all = new ArrayList<Map<String, Object>>();
            for (var o : store.get(c).values()) {
                if (new Watch(c, namespace, name, null).matches(o)) {
                    all.add(o);
                }
            }
            for (int i = offset; i < all.size() && items.size() < limit; i++) {
                var item = new LinkedHashMap<>(all.get(i));
                item.remove("apiVersion"); // as for built-in kinds: the client takes them from the list
                item.remove("kind");
                items.add(item);
            }
            if (offset + items.size() < all.size()) {
                cont = Integer.toString(offset + items.size());
            }
            rv = Long.toString(version);
        }
        var meta = new LinkedHashMap<String, Object>();
        meta.put("resourceVersion", rv);
        if (cont != null) {
            meta.put("continue", cont);
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("kind", kinds.get(c) + "List");
        body.put("apiVersion", c.substring(0, c.lastIndexOf('/')));
        body.put("metadata", meta);
        body.put("items", items);
        reply(ex, 200, body);
    }

    private void watch(
            HttpExchange ex, String c, String plural, String namespace, String name, Map<String, String> query)
            throws IOException {
        long from = query.containsKey("resourceVersion") ? Long.parseLong(query.get("resourceVersion")) : version;
        long timeout = query.containsKey("timeoutSeconds") ? Long.parseLong(query.get("timeoutSeconds")) : 1800;
        var w = new Watch(c, namespace, name, new ArrayBlockingQueue<>(10_000));
        synchronized (this) {
            if (from < compactedBelow) {
                w.lines()
                        .offer(json(Map.of(
                                "type",
                                "ERROR",
                                "object",
                                status(410, "Expired", "too old resource version: " + from))));
                w.lines().offer(CLOSE);
            } else {
                for (var e : history) {
                    if (e.version() > from && e.collection().equals(c) && w.matches(e.object())) {
                        w.lines().offer(json(Map.of("type", e.type(), "object", e.object())));
                    }
                }
            }
            watches.add(w);
            // counted once registered: a test that sees the count also sees the watch among the open ones
            watchRequests.computeIfAbsent(plural, k -> new AtomicInteger()).incrementAndGet();
        }
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout);
        try (OutputStream out = ex.getResponseBody()) {
            out.flush();
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                String line = w.lines().poll(left, TimeUnit.NANOSECONDS);
                if (line == null || line.equals(CLOSE)) {
                    break;
                }
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watches.remove(w);
        }
    }

    private void record(Event e) {
        history.add(e);
        String line = json(Map.of("type", e.type(), "object", e.object()));
        for (var w : watches) {
            if (w.collection().equals(e.collection())
                    && w.matches(e.object())
                    && !w.lines().offer(line)) {
                w.lines().clear();
                w.lines().offer(CLOSE); // a watcher that cannot keep up is cut off, as the real server does
            }
        }
    }

    /** {collection, namespace or null} for an API path, or null. */
    private static String[] route(String path) {
        var parts = path.split("/");
        // /api/v1[/namespaces/NS]/PLURAL  or  /apis/G/V[/namespaces/NS]/PLURAL
        int i;
        String apiVersion;
        if (parts.length >= 4 && parts[1].equals("api")) {
            apiVersion = parts[2];
            i = 3;
        } else if (parts.length >= 5 && parts[1].equals("apis")) {
            apiVersion = parts[2] + "/" + parts[3];
            i = 4;
        } else {
            return null;
        }
        String namespace = null;
        if (parts.length == i + 3 && parts[i].equals("namespaces")) {
            namespace = parts[i + 1];
            i += 2;
        }
        if (parts.length != i + 1) {
            return null;
        }
        return new String[] {apiVersion + "/" + parts[i], namespace};
    }

    private static Map<String, String> query(String raw) {
        var out = new HashMap<String, String>();
        if (raw == null) {
            return out;
        }
        for (String p : raw.split("&")) {
            int eq = p.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? p : p.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    private synchronized String collection(String apiVersion, String kind) {
        for (var e : kinds.entrySet()) {
            if (e.getValue().equals(kind) && e.getKey().startsWith(apiVersion + "/")) {
                return e.getKey();
            }
        }
        throw new IllegalArgumentException(apiVersion + " " + kind + " is not served (call serve first)");
    }

    private String collectionOf(Map<String, Object> object) {
        return collection(String.valueOf(object.get("apiVersion")), String.valueOf(object.get("kind")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> meta(Map<String, Object> object) {
        return (Map<String, Object>) object.get("metadata");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String text) {
        var o = new Load(LoadSettings.builder().build()).loadFromString(text);
        if (!(o instanceof Map<?, ?> m) || !(m.get("metadata") instanceof Map)) {
            throw new IllegalArgumentException("not a Kubernetes object: " + text);
        }
        var copy = new LinkedHashMap<String, Object>((Map<String, Object>) m);
        copy.put("metadata", new LinkedHashMap<>((Map<String, Object>) m.get("metadata")));
        return copy;
    }

    private static Map<String, Object> status(int code, String reason, String message) {
        var s = new LinkedHashMap<String, Object>();
        s.put("kind", "Status");
        s.put("apiVersion", "v1");
        s.put("status", "Failure");
        s.put("message", message);
        s.put("reason", reason);
        s.put("code", code);
        return s;
    }

    private static void reply(HttpExchange ex, int code, Object body) throws IOException {
        byte[] bytes = json(body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /** For tests that need the names the server knows. */
    public synchronized Set<String> collections() {
        return new HashSet<>(kinds.keySet());
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON-writable: " + value, e);
        }
    }
}
