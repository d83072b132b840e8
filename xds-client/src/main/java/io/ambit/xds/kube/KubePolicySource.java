package io.ambit.xds.kube;

import io.ambit.policy.load.LoadError;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalMeshFile;
import io.ambit.xds.mesh.MeshExtension;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waypoint's L7 policy from the Kubernetes API, where Istio keeps it (istiod does not send L7 policy to
 * proxies that speak only the ztunnel types): AuthorizationPolicy and RequestAuthentication, the kinds the
 * installed {@link MeshExtension}s read (the article's EnvoyFilter local_ratelimit, Ambit's LocalRateLimit —
 * its CRD may be absent: then there are none), and the mesh config's {@code extensionProviders} from Istio's
 * ConfigMap ({@code istio-system/istio}, key {@code mesh}).
 *
 * <p>Every object goes through the local mesh file's parser ({@link LocalMeshFile}), as one document after
 * the mesh document: an object in the cluster means exactly what it means in a file. Each object is checked
 * alone when it arrives; a bad one is refused by name with the field (a log line, a metric, {@link
 * Listener#rejected}) and the others apply. A bad mesh config is refused the same way and the last good one
 * stays. The accepted objects are then parsed together into one state, published whole.
 *
 * <p>The published {@link MeshState} holds policies and extension values only (no workloads: those come
 * from istiod, see {@link ClusterMeshSource}). Watch events are applied on one control thread; when the API
 * server is unreachable, the last state keeps serving.
 */
public final class KubePolicySource implements MeshSource {
    private static final Logger log = LoggerFactory.getLogger(KubePolicySource.class);
    /** Events waiting for the control thread, at most; a watcher waits beyond that. */
    private static final int MAX_QUEUED = 1024;
    /**
     * The policy text parsed together, at most (characters). The mesh-file parser refuses a document over 64 Mi
     * code points without naming an object; without this bound, enough large objects — any namespace's tenant
     * can create them — would make every publish fail: no change would apply again, and a waypoint starting
     * then would serve no policy at all.
     */
    static final int MAX_TOTAL_CHARS = 32 * 1024 * 1024;

    /**
     * Where and what to watch.
     *
     * @param meshConfigNamespace the namespace of Istio's mesh ConfigMap ({@code istio-system})
     * @param meshConfigName its name ({@code istio}; {@code istio-REVISION} with revisions)
     * @param limits the bounds of every list and watch
     */
    public record Settings(String meshConfigNamespace, String meshConfigName, WatchLimits limits) {
        public static final Settings DEFAULT = new Settings("istio-system", "istio", WatchLimits.DEFAULT);

        public Settings withLimits(WatchLimits value) {
            return new Settings(meshConfigNamespace, meshConfigName, value);
        }
    }

    /** One object as the control thread holds it. */
    private record Held(
            Map<String, Object> object,
            String ref,
            String text,
            String created,
            List<LoadError> errors,
            boolean ignored,
            String standIn) {

        /** What applies while this refused object is not fixed: its fail-closed stand-in (see {@link FailClosed}). */
        Held asStandIn() {
            return new Held(object, ref, standIn, created, List.of(), false, null);
        }
    }

    /** The one EnvoyFilter patch a waypoint applies (the article's local rate limit). */
    static final String LOCAL_RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit";

    private final List<MeshExtension<?>> extensions;
    private final int maxTotalChars;
    private final KubeMetrics metrics;
    private final String origin;
    private final ExecutorService control;
    private final ScheduledExecutorService timer;
    private final Semaphore queued = new Semaphore(MAX_QUEUED);
    private final List<KindWatcher> watchers = new ArrayList<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<MeshState> state = new AtomicReference<>();
    private final CompletableFuture<Void> synced = new CompletableFuture<>();
    private final ApiKind meshKind;
    private final List<ApiKind> kinds;

    // control thread only
    private final Map<ApiKind, Map<String, Held>> objects = new HashMap<>();
    private final Set<ApiKind> listedOnce = new HashSet<>();
    private String meshYaml = "";
    private String meshDoc = KubeObjects.meshDocument("");
    private boolean dirty;
    private boolean publishedOnce;
    private volatile List<LoadError> refused = List.of();

    KubePolicySource(String origin, Settings settings, List<MeshExtension<?>> extensions, MeterRegistry registry) {
        this(origin, settings, extensions, registry, MAX_TOTAL_CHARS);
    }

    KubePolicySource(
            String origin,
            Settings settings,
            List<MeshExtension<?>> extensions,
            MeterRegistry registry,
            int maxTotalChars) {
        this.maxTotalChars = maxTotalChars;
        this.extensions = List.copyOf(extensions);
        this.metrics = new KubeMetrics(registry);
        this.origin = origin;
        this.control = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("ambit-kube-control").daemon().unstarted(r));
        this.timer = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("ambit-kube-timer").daemon().unstarted(r));
        this.meshKind = ApiKind.meshConfigMap(settings.meshConfigNamespace(), settings.meshConfigName());
        var read = new ArrayList<ApiKind>();
        for (var k : ApiKind.POLICIES) {
            boolean core = k == ApiKind.AUTHORIZATION_POLICY || k == ApiKind.REQUEST_AUTHENTICATION;
            if (core || extensions.stream().anyMatch(e -> e.kinds().containsKey(k.kind()))) {
                read.add(k);
            }
        }
        this.kinds = List.copyOf(read);
        try {
            this.state.set(LocalMeshFile.parse(meshDoc, origin, this.extensions));
        } catch (InvalidMeshFileException e) {
            throw new IllegalStateException("the empty mesh does not parse: " + e.getMessage(), e);
        }
    }

    /**
     * Starts listing and watching (asynchronously). {@link #synced()} says when every kind has been listed once.
     *
     * @param extensions the extensions whose kinds to watch and read ({@link MeshExtension#installed()})
     * @param registry where the {@code ambit_kube_*} metrics go, or null
     */
    public static KubePolicySource start(
            KubeApi api, Settings settings, List<MeshExtension<?>> extensions, MeterRegistry registry) {
        var source = new KubePolicySource("kubernetes " + api.base(), settings, extensions, registry);
        var sink = source.sink();
        for (var k : source.watchedKinds()) {
            source.metrics.synced(k, false);
            var w = new KindWatcher(api, k, sink, settings.limits(), source.metrics, source.timer);
            source.watchers.add(w);
        }
        source.watchers.forEach(KindWatcher::start);
        return source;
    }

    /** Where watchers hand their news (tests feed it directly). */
    WatchSink sink() {
        return new Sink();
    }

    /** The kinds watched: the mesh ConfigMap, then the policy kinds. */
    public List<ApiKind> watchedKinds() {
        var all = new ArrayList<ApiKind>();
        all.add(meshKind);
        all.addAll(kinds);
        return all;
    }

    /** Completes once every watched kind has been listed (or found absent) and that state is published. */
    public CompletableFuture<Void> synced() {
        return synced;
    }

    /** The objects refused right now, each with what is wrong; empty when all apply. */
    public List<LoadError> refused() {
        return refused;
    }

    @Override
    public MeshState current() {
        return state.get();
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        watchers.forEach(KindWatcher::close);
        control.shutdownNow();
        timer.shutdownNow();
    }

    /** Hands watch news to the control thread, at most {@link #MAX_QUEUED} waiting. */
    private final class Sink implements WatchSink {
        @Override
        public void listed(ApiKind kind, List<Map<String, Object>> list) {
            submit(() -> applyList(kind, list));
        }

        @Override
        public void changed(ApiKind kind, String type, Map<String, Object> object) {
            submit(() -> applyChange(kind, type, object));
        }

        private void submit(Runnable task) {
            try {
                queued.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                control.execute(() -> {
                    queued.release();
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.error("applying a Kubernetes change failed; the last good state serves", e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                queued.release(); // closed
            }
        }
    }

    // ---- control thread

    private void applyList(ApiKind kind, List<Map<String, Object>> list) {
        if (kind.equals(meshKind)) {
            meshConfig(list.isEmpty() ? null : list.getFirst());
        } else {
            var next = new LinkedHashMap<String, Held>();
            var before = objects.getOrDefault(kind, Map.of());
            for (var o : list) {
                String key = KubeObjects.key(o);
                var old = before.get(key);
                next.put(key, sameVersion(old, o) ? old : check(o));
            }
            objects.put(kind, next);
        }
        if (listedOnce.add(kind)) {
            metrics.synced(kind, true);
        }
        publishSoon();
    }

    private void applyChange(ApiKind kind, String type, Map<String, Object> object) {
        if (kind.equals(meshKind)) {
            meshConfig(type.equals("DELETED") ? null : object);
        } else {
            var held = objects.computeIfAbsent(kind, k -> new LinkedHashMap<>());
            String key = KubeObjects.key(object);
            if (type.equals("DELETED")) {
                held.remove(key);
            } else if (!sameVersion(held.get(key), object)) {
                held.put(key, check(object));
            }
        }
        publishSoon();
    }

    private static boolean sameVersion(Held old, Map<String, Object> o) {
        String v = KubeObjects.resourceVersion(o);
        return old != null && v != null && v.equals(KubeObjects.resourceVersion(old.object()));
    }

    /** A new mesh config: checked alone; refused keeps the last good one; accepted re-checks every object. */
    private void meshConfig(Map<String, Object> configMap) {
        String yaml = configMap == null ? "" : KubeJson.string(KubeJson.map(configMap, "data"), "mesh");
        if (yaml == null) {
            yaml = "";
        }
        if (yaml.equals(meshYaml)) {
            return;
        }
        String name = "kubernetes (data.mesh)";
        String doc = KubeObjects.meshDocument(yaml);
        try {
            LocalMeshFile.parse(doc, name, extensions);
        } catch (InvalidMeshFileException e) {
            var errors = relabel(e.errors(), name, "ConfigMap " + meshKind.namespace() + "/" + meshKind.name());
            metrics.rejected("ConfigMap");
            log.warn("mesh config refused, keeping the last good one:\n{}", join(errors));
            tellRejected(errors);
            return;
        }
        meshYaml = yaml;
        meshDoc = doc;
        log.info("mesh config from ConfigMap {}/{} applied", meshKind.namespace(), meshKind.name());
        for (var held : objects.values()) {
            held.replaceAll((k, h) -> check(h.object()));
        }
    }

    /** Parses one object alone, after the mesh document: its errors, by name, or none. */
    private Held check(Map<String, Object> object) {
        String ref = KubeObjects.ref(object);
        String text = KubeObjects.text(object);
        if ("EnvoyFilter".equals(KubeJson.string(object, "kind")) && !text.contains(LOCAL_RATE_LIMIT_FILTER)) {
            // A cluster holds EnvoyFilters written for Envoy sidecars and gateways (Lua, headers, ...): not for this
            // waypoint, so not refused (that would flag them on every waypoint) but left out. One that inserts the
            // local rate limit is meant for it and is checked, refused with its field when Ambit cannot apply it.
            log.debug("{} inserts no {}: not for a waypoint, ignored", ref, LOCAL_RATE_LIMIT_FILTER);
            return new Held(object, ref, text, KubeObjects.creationTimestamp(object), List.of(), true, null);
        }
        String name = "kubernetes (resourceVersion " + KubeObjects.resourceVersion(object) + ")";
        List<LoadError> errors = List.of();
        try {
            LocalMeshFile.parse(meshDoc + "---\n" + text, name, extensions);
        } catch (InvalidMeshFileException e) {
            errors = relabel(e.errors(), name, ref);
            metrics.rejected(KubeJson.string(object, "kind"));
            log.warn("{} refused, the other objects apply:\n{}", ref, join(errors));
            tellRejected(errors);
        } catch (RuntimeException e) {
            errors = List.of(new LoadError(name, 0, ref, null, "cannot be read: " + e));
            metrics.rejected(KubeJson.string(object, "kind"));
            log.warn("{} refused: {}", ref, e.toString());
            tellRejected(errors);
        }
        return new Held(
                object,
                ref,
                text,
                KubeObjects.creationTimestamp(object),
                errors,
                false,
                errors.isEmpty() ? null : standIn(object, ref));
    }

    /** The fail-closed stand-in of a refused object, checked alone too; null when none (or it cannot be read). */
    private String standIn(Map<String, Object> object, String ref) {
        var standIn = FailClosed.standIn(object).orElse(null);
        if (standIn == null) {
            return null;
        }
        try {
            LocalMeshFile.parse(meshDoc + "---\n" + standIn.text(), origin, extensions);
        } catch (InvalidMeshFileException | RuntimeException e) {
            // its targetRefs are the broken part: what it protects is unknown (Istio's validation refuses these)
            log.warn("{}: its targets cannot be read either, so nothing stands in for it", ref);
            return null;
        }
        log.warn("{} refused; until it is fixed, failing closed: {}", ref, standIn.effect());
        return standIn.text();
    }

    /** Line numbers of the generated text mean nothing to the user: the object and field say where. */
    private static List<LoadError> relabel(List<LoadError> errors, String name, String ref) {
        var out = new ArrayList<LoadError>(errors.size());
        for (var e : errors) {
            out.add(new LoadError(name, 0, e.object() != null ? e.object() : ref, e.field(), e.message()));
        }
        return out;
    }

    private void publishSoon() {
        if (!dirty) {
            dirty = true;
            control.execute(this::publish);
        }
    }

    private void publish() {
        if (!dirty) {
            return;
        }
        dirty = false;
        var accepted = new ArrayList<Held>();
        var nowRefused = new ArrayList<LoadError>();
        var refusedByKind = new HashMap<String, Integer>();
        for (var held : objects.values()) {
            for (var h : held.values()) {
                if (h.ignored()) {
                    continue;
                }
                if (h.errors().isEmpty()) {
                    accepted.add(h);
                } else {
                    nowRefused.addAll(h.errors());
                    refusedByKind.merge(KubeJson.string(h.object(), "kind"), 1, Integer::sum);
                    if (h.standIn() != null) {
                        accepted.add(h.asStandIn()); // never dropped: that would fail open
                    }
                }
            }
        }
        // Istio's order: oldest first, then by namespace and name
        accepted.sort(Comparator.comparing(Held::created).thenComparing(Held::ref));
        overBudget(accepted, nowRefused, refusedByKind);
        MeshState next = null;
        // An object fine alone may clash with another (rare: two limits on one target). Such objects are
        // dropped by name and the rest parsed again; a few rounds settle it, else the last good state stays.
        for (int round = 0; round < 3 && next == null; round++) {
            var text = new StringBuilder(meshDoc);
            for (var h : accepted) {
                text.append("---\n").append(h.text());
            }
            try {
                next = LocalMeshFile.parse(text.toString(), origin, extensions);
            } catch (InvalidMeshFileException e) {
                var named = new HashSet<String>();
                e.errors().forEach(err -> named.add(err.object()));
                var dropped =
                        accepted.stream().filter(h -> named.contains(h.ref())).toList();
                if (dropped.isEmpty()) {
                    log.warn("Kubernetes objects refused together, keeping the last good state:\n{}", e.getMessage());
                    tellRejected(e.errors());
                    break;
                }
                accepted.removeAll(dropped);
                var errors = relabel(e.errors(), origin, null);
                nowRefused.addAll(errors);
                dropped.forEach(h -> refusedByKind.merge(KubeJson.string(h.object(), "kind"), 1, Integer::sum));
                log.warn("objects refused together with others, the rest apply:\n{}", join(errors));
                tellRejected(errors);
            }
        }
        refused = List.copyOf(nowRefused);
        for (var k : watchedKinds()) {
            metrics.refusedNow(k.kind(), refusedByKind.getOrDefault(k.kind(), 0));
        }
        if (next != null) {
            state.set(next);
            log.debug("kubernetes policies published: {}", next);
            for (var l : listeners) {
                try {
                    l.updated(next);
                } catch (RuntimeException e) {
                    log.error("mesh listener failed", e);
                }
            }
        }
        if (next != null) {
            publishedOnce = true;
        }
        // Synced means a state built from the cluster serves: never the empty start state after a failed parse
        if (!synced.isDone() && publishedOnce && listedOnce.containsAll(watchedKinds())) {
            log.info("kubernetes policies synced: {} object(s) apply, {} refused", accepted.size(), refused.size());
            synced.complete(null);
        }
    }

    /**
     * Keeps the oldest objects within {@link #maxTotalChars}; the newer ones are refused by name (and fail closed
     * through their stand-ins, which are small), so a flood of objects costs its author, not the policies before it.
     */
    private void overBudget(List<Held> accepted, List<LoadError> nowRefused, Map<String, Integer> refusedByKind) {
        long total = meshDoc.length();
        var over = new ArrayList<Held>();
        for (var h : accepted) {
            total += h.text().length() + 4;
            if (total > maxTotalChars) {
                over.add(h);
            }
        }
        if (over.isEmpty()) {
            return;
        }
        accepted.removeAll(over);
        for (var h : over) {
            var error = new LoadError(
                    origin,
                    0,
                    h.ref(),
                    null,
                    "not applied: the policy objects together exceed " + maxTotalChars
                            + " characters (expected: less policy text; the oldest objects apply first)");
            nowRefused.add(error);
            refusedByKind.merge(KubeJson.string(h.object(), "kind"), 1, Integer::sum);
            if (h.standIn() == null) {
                var standIn = standIn(h.object(), h.ref());
                if (standIn != null) {
                    accepted.add(new Held(h.object(), h.ref(), standIn, h.created(), List.of(), false, null));
                }
            }
        }
        log.warn(
                "{} object(s) over the policy size budget, refused (newest first): {}",
                over.size(),
                over.stream().map(Held::ref).toList());
        tellRejected(nowRefused.subList(nowRefused.size() - over.size(), nowRefused.size()));
    }

    private void tellRejected(List<LoadError> errors) {
        for (var l : listeners) {
            try {
                l.rejected(errors);
            } catch (RuntimeException e) {
                log.error("mesh listener failed", e);
            }
        }
    }

    private static String join(List<LoadError> errors) {
        var b = new StringBuilder();
        for (var e : errors) {
            b.append("  ").append(e).append('\n');
        }
        return b.toString();
    }
}
