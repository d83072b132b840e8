package io.ambit.waypoint.extauthz;

import io.ambit.xds.mesh.MeshState;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * grpc-java's name resolution for a gRPC provider reached through a {@link MeshBridge}: one address per
 * endpoint of the provider's mesh service, so that the channel's round_robin spreads the checks over all of
 * them (Envoy balances ext_authz calls over the provider cluster's endpoints; one connection to one endpoint
 * would pin every check there). Resolved again when the mesh state changes ({@link #meshMayHaveChanged},
 * a reference comparison on every check) and when grpc-java asks (a connection failed). A provider outside
 * the mesh resolves to the bridge's per-connection address; a mesh service without a usable endpoint to an
 * UNAVAILABLE error, so checks fail (closed) with the reason.
 *
 * <p>Resolving binds in-process servers and may wait for them, so it runs on a virtual thread, never on
 * the event loop a check is made from; results reach grpc-java through its synchronization context, and a
 * result older than one already delivered is dropped.
 */
final class ProviderEndpoints extends NameResolver {
    static final String SCHEME = "ambit-extauthz";

    private static final Executor RESOLVING = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ambit-extauthz-resolve-", 0).factory());

    private final MeshBridge bridge;
    private final MeshDialer dialer;
    private final String host;
    private final int port;
    private final SynchronizationContext sync;
    private final AtomicLong generation = new AtomicLong();
    private long computed = -1; // guarded by this
    private volatile MeshState resolvedFor;
    private Listener2 listener; // in sync
    private long delivered = -1; // in sync
    private boolean shutdown; // in sync

    private ProviderEndpoints(
            MeshBridge bridge, MeshDialer dialer, String host, int port, SynchronizationContext sync) {
        this.bridge = bridge;
        this.dialer = dialer;
        this.host = host;
        this.port = port;
        this.sync = sync;
    }

    /** The factory grpc-java asks for the resolver of {@code ambit-extauthz:///name}; it remembers the one made. */
    static final class Factory extends NameResolver.Factory {
        private final MeshBridge bridge;
        private final MeshDialer dialer;
        private final String host;
        private final int port;
        private volatile ProviderEndpoints made;

        Factory(MeshBridge bridge, MeshDialer dialer, String host, int port) {
            this.bridge = bridge;
            this.dialer = dialer;
            this.host = host;
            this.port = port;
        }

        @Override
        public NameResolver newNameResolver(URI target, NameResolver.Args args) {
            if (!SCHEME.equals(target.getScheme())) {
                return null;
            }
            var r = new ProviderEndpoints(bridge, dialer, host, port, args.getSynchronizationContext());
            made = r;
            return r;
        }

        @Override
        public String getDefaultScheme() {
            return SCHEME;
        }

        /** Re-resolves when the mesh state is not the one last resolved in (cheap: a reference comparison). */
        void meshMayHaveChanged() {
            ProviderEndpoints r = made;
            if (r != null) {
                r.meshMayHaveChanged();
            }
        }
    }

    @Override
    public String getServiceAuthority() {
        return host;
    }

    @Override
    public void start(Listener2 listener) {
        this.listener = listener;
        resolve();
    }

    @Override
    public void refresh() {
        resolve();
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    void meshMayHaveChanged() {
        if (dialer.meshNow() != resolvedFor) {
            resolve();
        }
    }

    private void resolve() {
        resolvedFor = dialer.meshNow(); // first: checks racing in meanwhile do not start more of the same
        long g = generation.incrementAndGet();
        RESOLVING.execute(() -> {
            StatusOr<List<EquivalentAddressGroup>> result;
            synchronized (this) {
                if (g < computed) {
                    return; // a later resolution ran already, in a state at least as new
                }
                computed = g;
                result = addresses(dialer.meshNow());
            }
            sync.execute(() -> deliver(g, result));
        });
    }

    private StatusOr<List<EquivalentAddressGroup>> addresses(MeshState state) {
        try {
            List<MeshDialer.Route> routes = dialer.routes(state, host, port);
            if (routes.size() == 1) {
                switch (routes.getFirst()) {
                    case MeshDialer.Route.Direct d -> {
                        return StatusOr.fromValue(List.of(new EquivalentAddressGroup(bridge.address())));
                    }
                    case MeshDialer.Route.Unavailable u -> {
                        return StatusOr.fromStatus(Status.UNAVAILABLE.withDescription(u.reason()));
                    }
                    default -> {}
                }
            }
            var groups = new ArrayList<EquivalentAddressGroup>(routes.size());
            for (var a : bridge.addresses(routes)) {
                groups.add(new EquivalentAddressGroup(a));
            }
            return StatusOr.fromValue(List.copyOf(groups));
        } catch (RuntimeException e) {
            return StatusOr.fromStatus(Status.UNAVAILABLE
                    .withDescription("ext_authz provider " + host + ":" + port + " not resolved: " + e.getMessage())
                    .withCause(e));
        }
    }

    private void deliver(long g, StatusOr<List<EquivalentAddressGroup>> result) {
        if (shutdown || g < delivered) {
            return; // a newer state's endpoints are there already
        }
        delivered = g;
        listener.onResult2(
                ResolutionResult.newBuilder().setAddressesOrError(result).build());
    }
}
