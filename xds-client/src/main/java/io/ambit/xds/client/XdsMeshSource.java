package io.ambit.xds.client;

import io.ambit.policy.crd.AuthorizationPolicy;
import io.ambit.policy.crd.PolicySet;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.convert.AuthorizationConverter;
import io.ambit.xds.convert.InvalidResourceException;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.ambit.xds.mesh.NetworkAddress;
import io.ambit.xds.mesh.Service;
import io.ambit.xds.mesh.Workload;
import io.ambit.xds.proto.discovery.Resource;
import io.ambit.xds.proto.security.Authorization;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh as istiod tells it: workloads and services ({@value AddressConverter#TYPE_URL}) and L4
 * policies ({@value AuthorizationConverter#TYPE_URL}) over Delta ADS, converted at the edge and
 * published as whole {@link MeshState}s through one {@link AtomicReference}.
 *
 * <p>Each response is applied on the xDS control thread: the valid resources go into the held set, the
 * bad ones are NACKed by name (listeners hear of them through {@link Listener#rejected}); then, if
 * anything changed, one new state is built ({@link MeshState#resolving}: istiod's transient
 * contradictions do not refuse a state) and published, and listeners are told. Policies are compiled again
 * only when an Authorization changed. When istiod is gone the last state keeps serving, indefinitely.
 *
 * <p>Usable by any proxy: the node identity ({@link NodeInfo}) is a parameter, so a waypoint subscribes
 * with its own node id and metadata and gets the same mesh.
 */
public final class XdsMeshSource implements MeshSource {
    private static final Logger log = LoggerFactory.getLogger(XdsMeshSource.class);

    private final MeshConfig mesh;
    private final String origin;
    private final AtomicReference<MeshState> state = new AtomicReference<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final DeltaAdsClient client;
    private final boolean onDemand;
    /** The control thread when this source made it (closed with the source), else null. */
    private final ScheduledExecutorService ownedThread;

    private final ScheduledExecutorService control;
    private final CompletableFuture<Void> ready;
    private boolean dirty; // control thread: applied changes not yet published
    private boolean policiesChanged; // control thread: authorizations changed since the last compile

    // control thread only: what istiod sent, by resource name, in arrival order (later wins conflicts)
    private final LinkedHashMap<String, Workload> workloads = new LinkedHashMap<>();
    private final LinkedHashMap<String, Service> services = new LinkedHashMap<>();
    private final LinkedHashMap<String, AuthorizationPolicy> authorizations = new LinkedHashMap<>();
    private PolicySnapshot policies;
    private long order;

    private XdsMeshSource(
            XdsSettings settings,
            NodeInfo node,
            MeshConfig mesh,
            MeterRegistry registry,
            ScheduledExecutorService control) {
        this.mesh = mesh;
        this.origin = "xds " + settings.address();
        this.onDemand = settings.onDemand();
        this.policies = PolicySnapshot.empty(mesh);
        this.state.set(MeshState.resolving(List.of(), List.of(), policies, origin));
        var thread = control != null ? control : DeltaAdsClient.newControlThread();
        var channel = new ControlPlaneChannel(
                settings.address(), settings.rootCert(), settings.serverName(), settings.maxMessageBytes(), thread);
        var handlers = new LinkedHashMap<ResourceHandler, DeltaAdsClient.Mode>();
        handlers.put(
                new AddressHandler(),
                settings.onDemand() ? DeltaAdsClient.Mode.ON_DEMAND : DeltaAdsClient.Mode.WILDCARD);
        handlers.put(new AuthorizationHandler(), DeltaAdsClient.Mode.WILDCARD);
        this.client = new DeltaAdsClient(
                channel,
                settings.credentials(),
                node,
                handlers,
                thread,
                registry,
                settings.initialBackoff(),
                settings.maxBackoff());
        this.ownedThread = control == null ? thread : null;
        this.control = thread;
        // ready once the first full view is acknowledged *and* published (the publication is queued
        // behind the response that completed it on this same thread)
        this.ready = client.ready().thenRunAsync(() -> {}, thread);
    }

    /**
     * Connects (asynchronously) and starts applying what istiod sends. {@link #ready()} says when the first
     * full view has arrived.
     *
     * @param mesh     mesh settings istiod does not send (root namespace, trust domain)
     * @param registry where the xDS metrics go, or null
     */
    public static XdsMeshSource start(XdsSettings settings, NodeInfo node, MeshConfig mesh, MeterRegistry registry) {
        var source = new XdsMeshSource(settings, node, mesh, registry, null);
        source.client.start();
        return source;
    }

    @Override
    public MeshState current() {
        return state.get();
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /** Completes after the first ACK of workloads/services and of policies. */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    public DeltaAdsClient.Status status() {
        return client.status();
    }

    /**
     * The workload at an address: from the current state, or — in on-demand mode — asked of istiod
     * ({@code network/ip}, ztunnel-reference §4.3) and waited for up to {@code timeoutMillis}.
     */
    public CompletableFuture<Optional<Workload>> lookup(NetworkAddress address, long timeoutMillis) {
        var known = current().workload(address);
        if (known.isPresent() || !onDemand) {
            return CompletableFuture.completedFuture(known);
        }
        return client.demand(AddressConverter.TYPE_URL, address.network() + "/" + address.ip())
                .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                // answered on the control thread, behind the publication of what the response brought
                .handleAsync((v, e) -> current().workload(address), control);
    }

    @Override
    public void close() {
        client.close();
        if (ownedThread != null) {
            ownedThread.shutdownNow();
        }
    }

    // ---- applying responses (control thread)

    /**
     * Publishes soon, once: a burst of responses already queued on the control thread (gRPC drains them in
     * one go) is applied first and published as one state, instead of one O(mesh) rebuild per response.
     * A lone response is published right after it was applied.
     */
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
        if (policiesChanged) {
            policiesChanged = false;
            long start = System.nanoTime();
            policies = PolicyCompiler.compile(
                    new PolicySet(List.copyOf(authorizations.values()), List.of(), List.of()), mesh);
            log.debug(
                    "compiled {} authorizations in {} ms",
                    authorizations.size(),
                    (System.nanoTime() - start) / 1_000_000);
        }
        var next =
                MeshState.resolving(List.copyOf(workloads.values()), List.copyOf(services.values()), policies, origin);
        if (!next.conflicts().isEmpty()) {
            log.debug(
                    "xds state settled {} conflicts, e.g. {}",
                    next.conflicts().size(),
                    next.conflicts().getFirst());
        }
        state.set(next);
        for (var l : listeners) {
            try {
                l.updated(next);
            } catch (RuntimeException e) {
                log.error("mesh listener failed", e); // one failing listener must not starve the others
            }
        }
    }

    private void rejected(String typeUrl, List<Rejection> rejections) {
        if (rejections.isEmpty()) {
            return;
        }
        var errors = new ArrayList<LoadError>(rejections.size());
        for (var r : rejections) {
            errors.add(new LoadError(origin, 0, typeUrl + " " + r.name(), null, r.reason()));
        }
        for (var l : listeners) {
            try {
                l.rejected(errors);
            } catch (RuntimeException e) {
                log.error("mesh listener failed", e);
            }
        }
    }

    private final class AddressHandler implements ResourceHandler {
        @Override
        public String typeUrl() {
            return AddressConverter.TYPE_URL;
        }

        @Override
        public List<Rejection> apply(List<Resource> resources, List<String> removed) {
            var rejected = new ArrayList<Rejection>();
            boolean changed = false;
            for (var r : resources) {
                try {
                    var c = AddressConverter.convert(r.getName(), r.getResource());
                    // a name is one resource: replacing it moves it last (later entries win conflicts)
                    workloads.remove(r.getName());
                    services.remove(r.getName());
                    if (c.workload() != null) {
                        workloads.put(r.getName(), c.workload());
                    } else {
                        services.put(r.getName(), c.service());
                    }
                    changed = true;
                } catch (InvalidResourceException e) {
                    rejected.add(new Rejection(e.resource(), e.reason()));
                }
            }
            for (var name : removed) {
                changed |= workloads.remove(name) != null;
                changed |= services.remove(name) != null;
            }
            if (changed) {
                publishSoon();
            }
            rejected(typeUrl(), rejected);
            return rejected;
        }
    }

    private final class AuthorizationHandler implements ResourceHandler {
        @Override
        public String typeUrl() {
            return AuthorizationConverter.TYPE_URL;
        }

        @Override
        public List<Rejection> apply(List<Resource> resources, List<String> removed) {
            var rejected = new ArrayList<Rejection>();
            boolean changed = false;
            for (var r : resources) {
                try {
                    var any = r.getResource();
                    if (!any.getTypeUrl().equals(AuthorizationConverter.TYPE_URL)) {
                        throw new InvalidResourceException(
                                r.getName(),
                                "payload is \"" + any.getTypeUrl() + "\" (expected: " + AuthorizationConverter.TYPE_URL
                                        + ")");
                    }
                    Authorization a;
                    try {
                        a = Authorization.parseFrom(any.getValue());
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        throw new InvalidResourceException(
                                r.getName(),
                                "payload does not decode as istio.security.Authorization: " + e.getMessage());
                    }
                    authorizations.put(r.getName(), AuthorizationConverter.convert(r.getName(), a, mesh, order++));
                    changed = true;
                } catch (InvalidResourceException e) {
                    rejected.add(new Rejection(e.resource(), e.reason()));
                }
            }
            for (var name : removed) {
                changed |= authorizations.remove(name) != null;
            }
            if (changed) {
                policiesChanged = true;
                publishSoon();
            }
            rejected(typeUrl(), rejected);
            return rejected;
        }
    }

    /** For tests and the admin page: how many of each kind are held. */
    public Map<String, Integer> counts() {
        var s = current();
        return Map.of(
                "workloads", s.workloads().size(),
                "services", s.services().size(),
                "authorizations",
                        s.policies().policies().authorizationPolicies().size());
    }
}
