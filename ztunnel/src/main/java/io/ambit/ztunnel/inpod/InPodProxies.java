package io.ambit.ztunnel.inpod;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.dns.DnsMetrics;
import io.ambit.ztunnel.dns.InPodDns;
import io.ambit.ztunnel.inbound.LiveConnections;
import io.ambit.ztunnel.inpod.sys.NetnsFd;
import io.ambit.ztunnel.inpod.sys.NetnsThread;
import io.ambit.ztunnel.node.WorkloadProxy;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.ambit.ztunnel.telemetry.TrafficMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ztunnel's in-pod mode (ztunnel-reference.md §1.3): one proxy per pod, opened inside the pod's network
 * namespace when the CNI agent hands it over through ZDS, closed when the pod goes. This is the
 * "workload proxy manager": it keeps the pods it was given, each either running or pending (its uid is
 * not in the mesh state yet; it starts once the mesh has it), and answers every ZDS message with the
 * text of its ack (empty for success).
 *
 * <ul>
 *   <li>{@code add}: the uid's workload is looked up in the mesh; the ZDS workload info must agree with
 *       it (namespace, service account); its proxy opens with its identity. A known uid with the same
 *       namespace inode is a resend (after a reconnect) and changes nothing; with another inode the old
 *       proxy is drained and replaced.
 *   <li>{@code keep}: the pod is part of the snapshot being sent (its descriptor was not resent).
 *   <li>{@code del}: the pod's proxy is drained (up to the drain deadline) and closed.
 *   <li>{@code snapshot_sent}: pods not added or kept since the connection began are dropped.
 * </ul>
 *
 * <p>Readiness (ztunnel's "workload proxy manager" task): ready once a first snapshot has arrived and
 * no pod is pending. All state changes run on one control thread ({@code ambit-inpod}); proxies open
 * there (a certificate may take a while), drains run on their own virtual threads.
 */
public final class InPodProxies implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InPodProxies.class);
    /** How long one ZDS message may take to apply (a first certificate, binds) before its ack says so. */
    static final Duration APPLY_TIMEOUT = Duration.ofSeconds(45);
    /**
     * Most pods one node proxies, running or pending. Each holds a network-namespace descriptor, and a
     * pending one holds it until the mesh names its uid (maybe never), so an agent that keeps adding
     * unknown uids must not run the process out of descriptors. Far above Kubernetes' per-node pod limit
     * (110 by default, a few hundred at most in practice).
     */
    static final int MAX_PODS = 1024;

    /** When pending pods whose start failed are tried again (ztunnel: every 5 s). */
    static final Duration RETRY = Duration.ofSeconds(5);

    /**
     * A pod's listener ports (ztunnel's); {@code socks} 0 leaves SOCKS5 out (ztunnel opens it on the
     * pod's 127.0.0.1 only with UNSTABLE_ENABLE_SOCKS5).
     */
    public record Ports(int outbound, int plaintext, int hbone, int socks) {
        public static final Ports DEFAULT = new Ports(15001, 15006, 15008, 0);
    }

    /**
     * How to run. One constructor, no shorter ones: its one production caller (ZtunnelProcess) sets every
     * field, the tests go through their mesh fixture (TestMesh.inPodConfig).
     *
     * @param zdsSocket     the CNI agent's ZDS socket ({@code /var/run/ztunnel/ztunnel.sock}); null: none
     *                      (the proxies are then driven through this class's methods)
     * @param registry      where traffic and workload-manager metrics go
     * @param drainDeadline how long a removed pod's inbound tunnels may finish
     * @param dns           each pod's DNS proxy (where, which upstreams); null: none (DNS capture off)
     */
    public record Config(
            Path zdsSocket,
            MeshSource mesh,
            CertificateManager certificates,
            TlsSettings tls,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            MeterRegistry registry,
            Ports ports,
            Duration drainDeadline,
            InPodDns dns) {}

    /** What every pod's proxy shares. */
    record Shared(
            MeshSource mesh,
            CertificateManager certificates,
            TlsSettings tls,
            Transport transport,
            EventLoopGroup group,
            AccessLog accessLog,
            LiveConnections live,
            TrafficMetrics metrics,
            Ports ports,
            InPodDns dns,
            DnsMetrics dnsMetrics) {}

    /** The pod as the CNI agent describes it (ZDS {@code WorkloadInfo}); null fields: not given. */
    public record PodInfo(String name, String namespace, String serviceAccount) {}

    /** A pod handed over by ZDS: running when {@code proxy} is set, else pending. */
    private static final class Pod {
        final String uid;
        final PodInfo info;
        final NetnsFd netns;
        PodProxy proxy;
        String pendingReason;

        Pod(String uid, PodInfo info, NetnsFd netns) {
            this.uid = uid;
            this.info = info;
            this.netns = netns;
        }
    }

    private final Config config;
    private final Shared shared;
    private final NetnsThread netnsThread;
    private final ClientTls clientTls;
    private final ScheduledExecutorService control;
    private final Map<String, Pod> pods = new LinkedHashMap<>(); // control thread
    private final Set<String> seenThisConnection = new HashSet<>(); // control thread
    private final Counter started;
    private final Counter stopped;
    private volatile boolean snapshotReceived;
    private volatile int running;
    private volatile List<String> pending = List.of();
    private volatile boolean closed;
    private boolean retryScheduled; // control thread
    private ZdsClient zds;

    private InPodProxies(Config config, NetnsThread netnsThread) {
        this.config = config;
        this.netnsThread = netnsThread;
        var live = new LiveConnections(config.mesh());
        config.mesh().addListener(live);
        this.shared = new Shared(
                config.mesh(),
                config.certificates(),
                config.tls(),
                config.transport(),
                config.group(),
                config.accessLog(),
                live,
                new TrafficMetrics(config.registry()),
                config.ports(),
                config.dns(),
                new DnsMetrics(config.registry()));
        this.clientTls = new ClientTls(config.tls());
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "ambit-inpod");
            t.setDaemon(true);
            return t;
        });
        var r = config.registry();
        Gauge.builder("workload_manager_active_proxy_count", this, p -> p.running)
                .description("pod proxies running")
                .register(r);
        Gauge.builder("workload_manager_pending_proxy_count", this, p -> p.pending.size())
                .description("pods handed over whose proxy has not started yet")
                .register(r);
        started = Counter.builder("workload_manager_proxies_started")
                .description("pod proxies started")
                .register(r);
        stopped = Counter.builder("workload_manager_proxies_stopped")
                .description("pod proxies stopped")
                .register(r);
    }

    /**
     * Starts the manager and, when {@code config.zdsSocket()} is set, the ZDS client (which connects,
     * and reconnects, on its own thread).
     *
     * @throws Exception when namespaces cannot be used here (not Linux, no /proc)
     */
    public static InPodProxies start(Config config) throws Exception {
        var self = new InPodProxies(config, new NetnsThread("ambit-netns"));
        config.mesh().addListener(state -> self.onControl(self::startPending));
        if (config.zdsSocket() != null) {
            self.zds = ZdsClient.start(config.zdsSocket(), self);
        }
        return self;
    }

    // ---- ZDS operations: each completes with the ack's error text ("" for success) ----

    /** A new ZDS connection began: the CNI agent will send its snapshot again. */
    void connectionStarted() {
        onControl(() -> {
            seenThisConnection.clear();
            return "";
        });
    }

    /**
     * {@code add}: takes ownership of {@code netns} (closed here on any failure).
     */
    public CompletableFuture<String> add(String uid, PodInfo info, NetnsFd netns) {
        return onControl(() -> doAdd(uid, info, netns)).whenComplete((ack, e) -> {
            if (e != null) {
                netns.close(); // never ran: rejected while closing
            }
        });
    }

    public CompletableFuture<String> keep(String uid) {
        return onControl(() -> {
            if (pods.containsKey(uid)) {
                seenThisConnection.add(uid);
            } else {
                // not remembered: only pods we have can be dropped by snapshot_sent, and an agent's keeps of
                // unknown uids must not grow this set without bound
                log.debug("ZDS keep of unknown pod {}: nothing to keep", uid);
            }
            return "";
        });
    }

    public CompletableFuture<String> del(String uid) {
        return onControl(() -> {
            seenThisConnection.remove(uid);
            var pod = pods.remove(uid);
            if (pod == null) {
                log.info("ZDS del of unknown pod {}: nothing to remove", uid);
            } else {
                log.info("pod {} removed: draining its proxy", uid);
                retire(pod);
            }
            publish();
            return "";
        });
    }

    public CompletableFuture<String> snapshotSent() {
        return onControl(() -> {
            for (var it = pods.values().iterator(); it.hasNext(); ) {
                var pod = it.next();
                if (!seenThisConnection.contains(pod.uid)) {
                    it.remove();
                    log.info("pod {} not in the CNI agent's snapshot: removing its proxy", pod.uid);
                    retire(pod);
                }
            }
            snapshotReceived = true;
            publish();
            return "";
        });
    }

    private String doAdd(String uid, PodInfo info, NetnsFd netns) {
        if (uid == null || uid.isBlank()) {
            netns.close();
            return "add without a uid (expected: the pod's uid)";
        }
        seenThisConnection.add(uid);
        var existing = pods.get(uid);
        if (existing != null && existing.netns.inode() == netns.inode()) {
            netns.close(); // a resend (after a reconnect): we already serve this namespace
            return "";
        }
        if (existing == null && pods.size() >= MAX_PODS) {
            seenThisConnection.remove(uid);
            netns.close();
            return "add " + uid + ": this node already proxies " + pods.size() + " pods (expected: at most " + MAX_PODS
                    + "; del pods that are gone)";
        }
        var workload = config.mesh().current().workloadByUid(uid);
        String mismatch = workload.map(w -> mismatch(info, w)).orElse(null);
        if (mismatch != null) {
            netns.close(); // refused before anything running is touched
            return mismatch;
        }
        if (existing != null) {
            log.info("pod {} now has network namespace {} (was {}): replacing its proxy", uid, netns, existing.netns);
            pods.remove(uid);
            retire(existing);
        }
        var pod = new Pod(uid, info, netns);
        if (workload.isEmpty()) {
            pod.pendingReason = "uid not in the mesh yet";
            pods.put(uid, pod);
            log.info("pod {} ({}) pending: its uid is not in the mesh yet", uid, netns);
            publish();
            return "";
        }
        try {
            pod.proxy = PodProxy.open(shared, netnsThread, clientTls, workload.get(), netns);
        } catch (Exception e) {
            netns.close();
            log.warn("pod {}: proxy did not start: {}", uid, e.toString());
            return "proxy for " + uid + " did not start: " + e.getMessage();
        }
        started.increment();
        pods.put(uid, pod);
        log.info(
                "pod {} ({}, {}) proxied in {}{}",
                uid,
                workload.get().name(),
                workload.get().identity(),
                netns,
                pod.proxy.transparent() ? "" : " (not transparent: no TPROXY, no client-IP preservation)");
        publish();
        return "";
    }

    /** Why the ZDS info contradicts the mesh's workload, or null when it does not. */
    private static String mismatch(PodInfo info, Workload w) {
        if (info == null) {
            return null;
        }
        if (info.namespace() != null
                && !info.namespace().isEmpty()
                && !info.namespace().equals(w.namespace())) {
            return "pod " + w.uid() + ": ZDS says namespace " + info.namespace() + ", the mesh says " + w.namespace();
        }
        if (info.serviceAccount() != null
                && !info.serviceAccount().isEmpty()
                && !info.serviceAccount().equals(w.serviceAccount())) {
            return "pod " + w.uid() + ": ZDS says service account " + info.serviceAccount() + ", the mesh says "
                    + w.serviceAccount();
        }
        return null;
    }

    /** Starts pending pods the mesh now has. Control thread. */
    private String startPending() {
        boolean failed = false;
        var state = config.mesh().current();
        for (var pod : pods.values()) {
            if (pod.proxy != null || closed) {
                continue;
            }
            var workload = state.workloadByUid(pod.uid);
            if (workload.isEmpty()) {
                continue;
            }
            String mismatch = mismatch(pod.info, workload.get());
            if (mismatch != null) {
                pod.pendingReason = mismatch;
                log.warn("pod {} stays pending: {}", pod.uid, mismatch);
                continue;
            }
            try {
                pod.proxy = PodProxy.open(shared, netnsThread, clientTls, workload.get(), pod.netns);
                pod.pendingReason = null;
                started.increment();
                log.info("pending pod {} proxied in {}", pod.uid, pod.netns);
            } catch (Exception e) {
                failed = true;
                pod.pendingReason = "proxy did not start: " + e.getMessage();
                log.warn("pending pod {}: proxy did not start (retrying in {}): {}", pod.uid, RETRY, e.toString());
            }
        }
        publish();
        if (failed && !retryScheduled && !closed) {
            retryScheduled = true;
            try {
                control.schedule(
                        () -> {
                            retryScheduled = false;
                            startPending();
                        },
                        RETRY.toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closing
            }
        }
        return "";
    }

    /** Drains and closes a pod's proxy on its own thread (or just its descriptor, when it is pending). */
    private void retire(Pod pod) {
        if (pod.proxy == null) {
            pod.netns.close();
            return;
        }
        stopped.increment();
        var proxy = pod.proxy;
        Thread.ofVirtual().name("ambit-drain-" + pod.uid).start(() -> proxy.close(config.drainDeadline()));
    }

    private void publish() {
        int n = 0;
        var waiting = new ArrayList<String>();
        for (var pod : pods.values()) {
            if (pod.proxy != null) {
                n++;
            } else {
                waiting.add(pod.uid + " (" + pod.pendingReason + ")");
            }
        }
        running = n;
        pending = List.copyOf(waiting);
    }

    private CompletableFuture<String> onControl(Callable<String> work) {
        var result = new CompletableFuture<String>();
        if (closed) {
            result.completeExceptionally(new IllegalStateException("in-pod proxies are closed"));
            return result;
        }
        try {
            control.execute(() -> {
                try {
                    result.complete(work.call());
                } catch (Throwable t) {
                    log.error("in-pod control task failed", t);
                    result.complete("internal error: " + t);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new IllegalStateException("in-pod proxies are closed"));
        }
        return result;
    }

    // ---- status ----

    /** Ready (ztunnel's readiness): a first snapshot arrived and no pod is pending. */
    public boolean ready() {
        return snapshotReceived && pending.isEmpty();
    }

    /** Why not ready, for {@code /healthz/ready}: empty when ready. */
    public List<String> notReadyBecause() {
        var out = new ArrayList<String>();
        if (!snapshotReceived) {
            out.add("workload proxy manager (no ZDS snapshot yet)");
        }
        for (var p : pending) {
            out.add("pod " + p);
        }
        return out;
    }

    /** Pending pods: {@code uid (reason)}. */
    public List<String> pending() {
        return pending;
    }

    /** How many pod proxies run. */
    public int running() {
        return running;
    }

    /** The listeners of a running pod, for tests and the admin page. */
    public Optional<WorkloadProxy> proxy(String uid) {
        try {
            return onControlValue(() -> {
                var pod = pods.get(uid);
                return pod == null || pod.proxy == null ? null : pod.proxy.listeners();
            });
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private <T> Optional<T> onControlValue(Callable<T> work) throws Exception {
        var result = new CompletableFuture<T>();
        control.execute(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return Optional.ofNullable(result.get(10, TimeUnit.SECONDS));
    }

    /** The inbound connections open now in every pod. */
    public LiveConnections liveConnections() {
        return shared.live();
    }

    /**
     * Stops the ZDS client, then drains every pod's proxy (up to the drain deadline) and closes it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (zds != null) {
            zds.close();
        }
        var all = new CompletableFuture<List<Pod>>();
        try {
            control.execute(() -> {
                closed = true;
                all.complete(new ArrayList<>(pods.values()));
                pods.clear();
                publish();
            });
        } catch (RejectedExecutionException e) {
            all.complete(List.of());
        }
        List<Pod> toClose;
        try {
            toClose = all.get(APPLY_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("in-pod control thread did not stop in time; closing anyway: {}", e.toString());
            toClose = List.of();
        }
        closed = true;
        control.shutdownNow();
        var drains = new ArrayList<Thread>();
        for (var pod : toClose) {
            if (pod.proxy == null) {
                pod.netns.close();
            } else {
                stopped.increment();
                var proxy = pod.proxy;
                drains.add(Thread.ofVirtual().start(() -> proxy.close(config.drainDeadline())));
            }
        }
        for (var t : drains) {
            try {
                t.join(config.drainDeadline().toMillis() + 15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        netnsThread.close();
        clientTls.close();
    }
}
