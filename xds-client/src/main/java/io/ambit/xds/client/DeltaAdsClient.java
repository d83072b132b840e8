package io.ambit.xds.client;

import com.google.rpc.Code;
import io.ambit.xds.proto.discovery.AggregatedDiscoveryServiceGrpc;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.ambit.xds.proto.discovery.Resource;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Incremental aggregated discovery with istiod, as ztunnel speaks it (ztunnel-reference §4.1, §4.3).
 *
 * <p><b>One control thread.</b> Every stream callback, request, timer and handler call runs on one
 * thread ({@code ambit-xds}), which is also the gRPC channel's executor: the state below needs no locks
 * and handlers see one response at a time.
 *
 * <p><b>Flow.</b> On each new stream: one request per type, carrying the node, subscribing as a wildcard
 * (or, for on-demand types, {@code *} subscribed and unsubscribed plus the names demanded so far), with
 * {@code initial_resource_versions} = every resource held and its version, so the server sends only what
 * changed and removes what is gone. Each response goes to its type's {@link ResourceHandler}, minus the
 * resources whose version is the one held (no reload storm after a reconnect); the valid ones are
 * applied, and the response is ACKed, or NACKed with {@code error_detail.message = "<name>: <reason>;
 * …"} naming only the bad ones. An unknown type URL is logged and ACKed. A rejected resource keeps the
 * version held before (if any), so a reconnect asks for it again.
 *
 * <p><b>Reconnect.</b> A stream that ends is opened again after {@link Backoff}: 10 ms after a stream that
 * had received responses (istiod closes streams on purpose, e.g. max connection age), doubling to 15 s
 * while connecting fails. The last applied state stays with the handlers meanwhile, indefinitely.
 *
 * <p><b>Ready.</b> {@link #ready()} completes after the first ACK of every wildcard type, as ztunnel's
 * readiness (a first response that had to be NACKed does not count; the next fully ACKed one does).
 */
public final class DeltaAdsClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeltaAdsClient.class);

    /** How a type is subscribed. */
    public enum Mode {
        /** Everything of the type (legacy wildcard: an empty subscribe list). */
        WILDCARD,
        /** Only names asked for with {@link #demand}. */
        ON_DEMAND
    }

    /** What the client is doing, for the admin page and tests. */
    public record Status(
            boolean connected,
            long streams,
            long acks,
            long nacks,
            String lastNack,
            String lastError,
            Map<String, Integer> held) {}

    private final ControlPlaneChannel channel;
    private final BearerToken credentials;
    private final NodeInfo node;
    private final ScheduledExecutorService control;
    private final boolean ownsControl;
    private final Map<String, TypeState> types = new LinkedHashMap<>();
    private final Backoff backoff;
    private final XdsMetrics metrics;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    // control thread only
    private Stream stream;
    private boolean closed;
    private long streams;
    private long acks;
    private long nacks;
    private volatile Status status = new Status(false, 0, 0, 0, null, null, Map.of());

    private static final class TypeState {
        final ResourceHandler handler;
        final Mode mode;
        final Map<String, String> versions = new HashMap<>();
        final Set<String> demanded = new LinkedHashSet<>();
        final Map<String, List<CompletableFuture<Void>>> waiting = new HashMap<>();
        boolean acked;

        TypeState(ResourceHandler handler, Mode mode) {
            this.handler = handler;
            this.mode = mode;
        }
    }

    /**
     * @param channel     the channel to istiod; its executor must be {@code control}
     * @param credentials the bearer token and clusterid headers
     * @param node        who this client is
     * @param handlers    the types to subscribe to, with their mode
     * @param control     the control thread; null to create one (closed with the client)
     * @param registry    where to count, or null
     */
    public DeltaAdsClient(
            ControlPlaneChannel channel,
            BearerToken credentials,
            NodeInfo node,
            Map<ResourceHandler, Mode> handlers,
            ScheduledExecutorService control,
            MeterRegistry registry,
            Duration initialBackoff,
            Duration maxBackoff) {
        this.channel = channel;
        this.credentials = credentials;
        this.node = node;
        this.ownsControl = control == null;
        this.control = control != null ? control : newControlThread();
        handlers.forEach((h, mode) -> types.put(h.typeUrl(), new TypeState(h, mode)));
        this.backoff = new Backoff(initialBackoff, maxBackoff);
        this.metrics = new XdsMetrics(registry != null ? registry : new SimpleMeterRegistry());
        if (types.values().stream().noneMatch(t -> t.mode == Mode.WILDCARD)) {
            ready.complete(null);
        }
    }

    /** A single daemon thread named {@code ambit-xds}, for the client and its channel. */
    public static ScheduledExecutorService newControlThread() {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "ambit-xds");
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens the first stream (asynchronously, on the control thread). */
    public void start() {
        control.execute(this::connect);
    }

    /** Completes after the first ACK of every wildcard type; never fails. */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    public Status status() {
        return status;
    }

    /**
     * Asks for one resource of an on-demand type. Completes when a response names it (as a resource, an
     * alias or a removal); the caller bounds the wait.
     */
    public CompletableFuture<Void> demand(String typeUrl, String name) {
        var done = new CompletableFuture<Void>();
        control.execute(() -> {
            var t = types.get(typeUrl);
            if (t == null || t.mode != Mode.ON_DEMAND) {
                done.completeExceptionally(new IllegalArgumentException(
                        typeUrl + " is not subscribed on demand (expected one of: " + types.keySet() + ")"));
                return;
            }
            t.waiting.computeIfAbsent(name, k -> new ArrayList<>()).add(done);
            if (t.demanded.add(name) && stream != null) {
                stream.send(DeltaDiscoveryRequest.newBuilder()
                        .setTypeUrl(typeUrl)
                        .addResourceNamesSubscribe(name)
                        .build());
            }
        });
        return done;
    }

    // ---- the stream

    private void connect() {
        if (closed) {
            return;
        }
        var s = new Stream(++streams);
        stream = s;
        try {
            var stub = AggregatedDiscoveryServiceGrpc.newStub(channel.current()).withCallCredentials(credentials);
            stub.deltaAggregatedResources(s);
        } catch (java.io.IOException | RuntimeException e) {
            s.ended(io.grpc.Status.UNAVAILABLE.withDescription(e.getMessage()).withCause(e));
            return;
        }
        for (var e : types.entrySet()) {
            var t = e.getValue();
            var req = DeltaDiscoveryRequest.newBuilder()
                    .setNode(node.toProto())
                    .setTypeUrl(e.getKey())
                    .putAllInitialResourceVersions(t.versions);
            if (t.mode == Mode.ON_DEMAND) {
                // ztunnel's non-wildcard opening: subscribe and unsubscribe "*", then the names wanted
                req.addResourceNamesSubscribe("*").addResourceNamesUnsubscribe("*");
                req.addAllResourceNamesSubscribe(t.demanded);
            }
            s.send(req.build());
        }
        publishStatus(null);
        log.debug("xds stream {} to {} opened", s.id, channel.address());
    }

    private void onResponse(Stream s, DeltaDiscoveryResponse r) {
        if (s != stream || closed) {
            return;
        }
        if (!s.gotResponse) {
            s.gotResponse = true;
            log.info("xds stream {} to {} established", s.id, channel.address());
        }
        String url = r.getTypeUrl();
        metrics.message(url, r.getSerializedSize());
        var t = types.get(url);
        List<Rejection> rejected;
        if (t == null) {
            log.warn(
                    "xds response of type \"{}\", which was not subscribed (expected one of {}); ACKing it",
                    url,
                    types.keySet());
            rejected = List.of();
        } else {
            rejected = apply(t, r);
        }
        var reply = DeltaDiscoveryRequest.newBuilder().setTypeUrl(url).setResponseNonce(r.getNonce());
        if (rejected.isEmpty()) {
            acks++;
            s.send(reply.build());
            if (t != null && t.mode == Mode.WILDCARD && !t.acked) {
                t.acked = true;
                if (types.values().stream().allMatch(x -> x.mode != Mode.WILDCARD || x.acked)) {
                    log.info("xds ready: every type acknowledged once");
                    ready.complete(null);
                }
            }
            publishStatus(null);
        } else {
            nacks++;
            var text = new StringBuilder();
            for (var rej : rejected) {
                if (!text.isEmpty()) {
                    text.append("; ");
                }
                text.append(rej);
            }
            log.warn("xds NACK of {} (nonce {}): {}", url, r.getNonce(), text);
            s.send(reply.setErrorDetail(com.google.rpc.Status.newBuilder()
                            .setCode(Code.INVALID_ARGUMENT_VALUE)
                            .setMessage(text.toString()))
                    .build());
            publishStatus(text.toString());
        }
    }

    /** Hands the changed resources to the handler and keeps the versions of what it applied. */
    private List<Rejection> apply(TypeState t, DeltaDiscoveryResponse r) {
        var changed = new ArrayList<Resource>(r.getResourcesCount());
        var rejected = new ArrayList<Rejection>();
        for (int i = 0; i < r.getResourcesCount(); i++) {
            var res = r.getResources(i);
            if (res.getName().isEmpty()) {
                rejected.add(new Rejection("resources[" + i + "]", "has no name (expected: the resource's name)"));
                continue;
            }
            if (!res.hasResource()) {
                continue; // a TTL heartbeat without a body: nothing changes
            }
            String held = t.versions.get(res.getName());
            if (held != null && !held.isEmpty() && held.equals(res.getVersion())) {
                continue; // already applied (a reconnect may resend what we have)
            }
            changed.add(res);
        }
        List<Rejection> bad;
        try {
            bad = t.handler.apply(changed, r.getRemovedResourcesList());
        } catch (RuntimeException e) {
            log.error("xds handler for {} failed; keeping the previous state", r.getTypeUrl(), e);
            bad = changed.stream()
                    .map(res -> new Rejection(res.getName(), "not applied: " + e))
                    .toList();
        }
        var badNames = new java.util.HashSet<String>();
        for (var b : bad) {
            badNames.add(b.name());
        }
        for (var res : changed) {
            if (!badNames.contains(res.getName())) {
                t.versions.put(res.getName(), res.getVersion());
            }
        }
        for (var name : r.getRemovedResourcesList()) {
            t.versions.remove(name);
        }
        rejected.addAll(bad);
        notifyWaiters(t, r);
        return rejected;
    }

    private static void notifyWaiters(TypeState t, DeltaDiscoveryResponse r) {
        if (t.waiting.isEmpty()) {
            return;
        }
        for (var res : r.getResourcesList()) {
            complete(t, res.getName());
            for (var alias : res.getAliasesList()) {
                complete(t, alias);
            }
        }
        for (var name : r.getRemovedResourcesList()) {
            complete(t, name);
        }
    }

    private static void complete(TypeState t, String name) {
        var waiters = t.waiting.remove(name);
        if (waiters != null) {
            waiters.forEach(w -> w.complete(null));
        }
    }

    private void onEnded(Stream s, io.grpc.Status st) {
        if (s != stream) {
            return;
        }
        stream = null;
        if (closed) {
            return;
        }
        Duration delay;
        String reason;
        if (st.isOk()) {
            reason = "Complete";
            delay = backoff.reset();
        } else if (s.gotResponse) {
            // a stream that worked and ended (server restart, max connection age, GOAWAY): come back at once
            reason = "Reconnect";
            delay = backoff.reset();
        } else if (st.getCode() == io.grpc.Status.Code.UNAVAILABLE) {
            reason = "ConnectionError";
            delay = backoff.failed();
        } else {
            reason = "Error";
            delay = backoff.failed();
        }
        metrics.terminated(reason);
        String what = st.getCode() + (st.getDescription() == null ? "" : ": " + st.getDescription());
        if (s.gotResponse) {
            log.info(
                    "xds stream {} to {} ended ({}); reconnecting in {} ms",
                    s.id,
                    channel.address(),
                    what,
                    delay.toMillis());
        } else {
            log.warn(
                    "xds stream {} to {} failed ({}); retrying in {} ms, serving the last state meanwhile",
                    s.id,
                    channel.address(),
                    what,
                    delay.toMillis());
        }
        status = new Status(false, streams, acks, nacks, status.lastNack(), what, held());
        control.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void publishStatus(String nack) {
        status = new Status(
                stream != null && stream.gotResponse,
                streams,
                acks,
                nacks,
                nack != null ? nack : status.lastNack(),
                status.lastError(),
                held());
    }

    private Map<String, Integer> held() {
        var m = new LinkedHashMap<String, Integer>();
        types.forEach((k, v) -> m.put(k, v.versions.size()));
        return m;
    }

    /** Stops the stream and the channel; the handlers keep the last state. */
    @Override
    public void close() {
        var done = new CompletableFuture<Void>();
        try {
            control.execute(() -> {
                closed = true;
                if (stream != null) {
                    stream.cancel();
                    stream = null;
                }
                done.complete(null);
            });
            done.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // control thread already gone
        } catch (Exception e) {
            log.debug("xds close", e);
        }
        channel.close();
        if (ownsControl) {
            control.shutdownNow();
        }
    }

    /** One gRPC stream; callbacks arrive on the control thread (the channel's executor). */
    private final class Stream implements ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
        final long id;
        ClientCallStreamObserver<DeltaDiscoveryRequest> requests;
        boolean gotResponse;
        boolean ended;

        Stream(long id) {
            this.id = id;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> r) {
            this.requests = r;
        }

        void send(DeltaDiscoveryRequest req) {
            if (!ended && requests != null) {
                requests.onNext(req);
            }
        }

        void cancel() {
            ended = true;
            if (requests != null) {
                requests.cancel("client closed", null);
            }
        }

        void ended(io.grpc.Status st) {
            if (!ended) {
                ended = true;
                onEnded(this, st);
            }
        }

        @Override
        public void onNext(DeltaDiscoveryResponse r) {
            onResponse(this, r);
        }

        @Override
        public void onError(Throwable t) {
            ended(io.grpc.Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended(io.grpc.Status.OK);
        }
    }
}
