package io.ambit.controlplane;

import io.ambit.xds.proto.discovery.AggregatedDiscoveryServiceGrpc;
import io.ambit.xds.proto.discovery.DeltaDiscoveryRequest;
import io.ambit.xds.proto.discovery.DeltaDiscoveryResponse;
import io.ambit.xds.proto.discovery.Resource;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delta ADS as istiod serves it to ztunnel (ztunnel-reference §4.3), over an {@link XdsSnapshot}.
 *
 * <p>Per stream and type the server tracks what the client holds (name → version): seeded from the
 * first request's {@code initial_resource_versions}, then from what it sends. The first request of a type
 * is answered at once — with every resource whose version differs from the client's, and the removal of
 * every name the client holds that no longer exists — even when that is nothing, so a client can ACK and
 * become ready. Later snapshots are pushed as the same kind of difference, only when there is one. A NACK
 * is recorded and the rejected resources are not sent again until they change (as istiod). On-demand
 * subscriptions ({@code *} subscribed and unsubscribed, then names) are answered by name or alias
 * ({@code network/ip}), with a removal for a name that does not exist.
 *
 * <p>Everything runs on one executor (the server's control thread). A client that does not read does not
 * make the server buffer: a stream that is not ready is marked and sent the difference when it becomes
 * ready, one response at a time.
 */
final class AdsService extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(AdsService.class);

    /** What the server has seen, for the CLI's log and tests. */
    public record Stats(
            long streams, long acks, long nacks, String lastNack, long responses, long resourcesSent, int open) {}

    private final Executor control;
    private final List<Session> sessions = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    // control thread only
    private XdsSnapshot snapshot = XdsSnapshot.EMPTY;
    private long streams;
    private long acks;
    private long nacks;
    private String lastNack;
    private long responses;
    private long resourcesSent;
    private final List<DeltaDiscoveryRequest> firstRequests = new ArrayList<>();

    AdsService(Executor control) {
        this.control = control;
    }

    /** Serves a new snapshot: every stream is sent what changed for it (on the control thread). */
    void push(XdsSnapshot next) {
        control.execute(() -> {
            snapshot = next;
            for (var s : sessions) {
                s.dirty = true;
                s.flush();
            }
        });
    }

    Stats stats() {
        return new Stats(streams, acks, nacks, lastNack, responses, resourcesSent, sessions.size());
    }

    /** The first request of each type on each stream, in order (node, initial versions), for tests. */
    List<DeltaDiscoveryRequest> firstRequests() {
        return List.copyOf(firstRequests);
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
            StreamObserver<DeltaDiscoveryResponse> responses) {
        var out = (ServerCallStreamObserver<DeltaDiscoveryResponse>) responses;
        var session = new Session(ids.incrementAndGet(), out);
        // callbacks arrive on the server's executor, which is the control thread
        out.setOnReadyHandler(session::flush);
        out.setOnCancelHandler(() -> sessions.remove(session));
        sessions.add(session);
        streams++;
        return new StreamObserver<>() {
            @Override
            public void onNext(DeltaDiscoveryRequest r) {
                session.request(r);
            }

            @Override
            public void onError(Throwable t) {
                sessions.remove(session);
            }

            @Override
            public void onCompleted() {
                sessions.remove(session);
                out.onCompleted();
            }
        };
    }

    private static final class Subscription {
        final boolean wildcard;
        final Set<String> names = new LinkedHashSet<>();
        /** What the client holds: name → version. */
        final Map<String, String> held = new HashMap<>();
        /** Names asked for whose answer is still to be sent. */
        final Set<String> asked = new LinkedHashSet<>();

        boolean answerDue = true;

        Subscription(boolean wildcard) {
            this.wildcard = wildcard;
        }
    }

    private final class Session {
        final long id;
        final ServerCallStreamObserver<DeltaDiscoveryResponse> out;
        final Map<String, Subscription> subscriptions = new LinkedHashMap<>();
        String node = "?";
        long nonces;
        boolean dirty;
        boolean ended;

        Session(long id, ServerCallStreamObserver<DeltaDiscoveryResponse> out) {
            this.id = id;
            this.out = out;
        }

        void request(DeltaDiscoveryRequest r) {
            if (r.hasNode() && !r.getNode().getId().isEmpty()) {
                node = r.getNode().getId();
            }
            String type = r.getTypeUrl();
            if (!r.getResponseNonce().isEmpty()) {
                if (r.hasErrorDetail()) {
                    nacks++;
                    lastNack = r.getErrorDetail().getMessage();
                    log.warn("{} NACKed {} {}: {}", node, type, r.getResponseNonce(), lastNack);
                } else {
                    acks++;
                }
            }
            var sub = subscriptions.get(type);
            if (sub == null) {
                if (!snapshot.resources().containsKey(type)) {
                    log.warn("{} asked for {}, which this server does not serve", node, type);
                    return;
                }
                if (firstRequests.size() >= 1000) {
                    firstRequests.removeFirst(); // a bounded log
                }
                firstRequests.add(r);
                var subscribe = r.getResourceNamesSubscribeList();
                var unsubscribe = r.getResourceNamesUnsubscribeList();
                boolean wildcard = (subscribe.isEmpty() || subscribe.contains("*")) && !unsubscribe.contains("*");
                sub = new Subscription(wildcard);
                sub.held.putAll(r.getInitialResourceVersionsMap());
                for (var n : subscribe) {
                    if (!n.equals("*")) {
                        sub.names.add(n);
                        sub.asked.add(n);
                    }
                }
                subscriptions.put(type, sub);
                log.info(
                        "{} subscribed to {} ({}, holding {})",
                        node,
                        type,
                        wildcard ? "wildcard" : "on demand",
                        sub.held.size());
            } else {
                for (var n : r.getResourceNamesSubscribeList()) {
                    if (!n.equals("*") && sub.names.add(n)) {
                        sub.asked.add(n);
                        sub.answerDue = true;
                    } else if (!n.equals("*")) {
                        sub.asked.add(n); // asked again: answered again (the client may have dropped it)
                        sub.held.remove(n);
                        sub.answerDue = true;
                    }
                }
                for (var n : r.getResourceNamesUnsubscribeList()) {
                    sub.names.remove(n);
                    sub.held.remove(n);
                }
            }
            dirty = true;
            flush();
        }

        /** Sends each subscription what changed for it, while the stream can take it. */
        void flush() {
            if (ended || !dirty) {
                return;
            }
            if (out.isCancelled()) {
                ended = true;
                sessions.remove(this);
                return;
            }
            for (var e : subscriptions.entrySet()) {
                if (!out.isReady()) {
                    return; // stays dirty: the ready handler comes back here
                }
                send(e.getKey(), e.getValue());
            }
            dirty = false;
        }

        private void send(String type, Subscription sub) {
            var all = snapshot.of(type);
            var resp = DeltaDiscoveryResponse.newBuilder().setTypeUrl(type);
            var wanted = new LinkedHashMap<String, XdsSnapshot.Entry>();
            if (sub.wildcard) {
                wanted.putAll(all);
            }
            var notFound = new ArrayList<String>();
            for (var n : sub.names) {
                var entry = resolve(all, n);
                if (entry != null) {
                    wanted.put(entry.name(), entry);
                } else if (sub.asked.contains(n)) {
                    notFound.add(n);
                }
            }
            for (var entry : wanted.values()) {
                boolean asked = sub.asked.contains(entry.name())
                        || entry.aliases().stream().anyMatch(sub.asked::contains);
                if (asked || !entry.version().equals(sub.held.get(entry.name()))) {
                    resp.addResources(Resource.newBuilder()
                            .setName(entry.name())
                            .setVersion(entry.version())
                            .setResource(entry.resource())
                            .addAllAliases(entry.aliases()));
                    sub.held.put(entry.name(), entry.version());
                }
            }
            for (var it = sub.held.keySet().iterator(); it.hasNext(); ) {
                var n = it.next();
                if (!wanted.containsKey(n)) {
                    resp.addRemovedResources(n);
                    it.remove();
                }
            }
            resp.addAllRemovedResources(notFound);
            sub.asked.clear();
            if (resp.getResourcesCount() == 0 && resp.getRemovedResourcesCount() == 0 && !sub.answerDue) {
                return;
            }
            sub.answerDue = false;
            resp.setNonce(id + "-" + (++nonces)).setSystemVersionInfo(Long.toString(nonces));
            responses++;
            resourcesSent += resp.getResourcesCount();
            try {
                out.onNext(resp.build());
            } catch (RuntimeException e) {
                ended = true; // the stream went away under us
                sessions.remove(this);
            }
        }

        private static XdsSnapshot.Entry resolve(Map<String, XdsSnapshot.Entry> all, String name) {
            var e = all.get(name);
            if (e != null) {
                return e;
            }
            for (var x : all.values()) {
                if (x.aliases().contains(name)) {
                    return x;
                }
            }
            return null;
        }
    }

    /** Ends every stream (the server is going away): clients reconnect elsewhere or later. */
    void closeAll() {
        control.execute(() -> {
            for (var s : sessions) {
                try {
                    s.out.onError(Status.UNAVAILABLE
                            .withDescription("control plane shutting down")
                            .asRuntimeException());
                } catch (RuntimeException e) {
                    // already gone
                }
            }
            sessions.clear();
        });
    }
}
