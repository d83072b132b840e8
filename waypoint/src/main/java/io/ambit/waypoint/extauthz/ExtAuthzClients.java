package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.policy.mesh.MeshConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * The waypoint's ext_authz clients, one per declared provider, built from the mesh config and kept across
 * updates while a provider's settings do not change (its connections survive a reload).
 *
 * <pre>{@code
 * var clients = new ExtAuthzClients(workerGroup, transport.socketChannelClass(), ProviderResolver.dns());
 * clients.update(meshConfig);                      // on the control thread, at start and on every change
 * clients.client(decision.provider()).check(input) // per CUSTOM decision, from any thread
 * }</pre>
 *
 * <p>{@link #client} is a lock-free read of an immutable map swapped by {@link #update}. A provider that is
 * not declared, or not an ext_authz kind, gets a client that denies with 403 (fail closed).
 */
public final class ExtAuthzClients implements AutoCloseable {
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private final ProviderResolver resolver;
    private final MeshDialer meshDialer;

    private record Entry(ExtensionProvider provider, ExtAuthzClient client) {}

    private volatile Map<String, Entry> clients = Map.of();

    public ExtAuthzClients(
            EventLoopGroup group, Class<? extends SocketChannel> channelClass, ProviderResolver resolver) {
        this(group, channelClass, resolver, null);
    }

    /**
     * Clients that reach providers inside the mesh over HBONE with {@code meshDialer} (one waypoint's
     * identity); null: every provider in plaintext.
     */
    public ExtAuthzClients(
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver,
            MeshDialer meshDialer) {
        this.group = group;
        this.channelClass = channelClass;
        this.resolver = resolver;
        this.meshDialer = meshDialer;
    }

    /** Builds clients for new or changed providers, keeps unchanged ones, closes the rest. */
    public synchronized void update(MeshConfig mesh) {
        var old = clients;
        var next = new HashMap<String, Entry>();
        if (mesh.providers() != null) {
            for (ExtensionProvider p : mesh.providers()) {
                Entry e = old.get(p.name());
                next.put(p.name(), e != null && e.provider().equals(p) ? e : new Entry(p, build(p)));
            }
        }
        clients = Map.copyOf(next);
        for (var e : old.entrySet()) {
            if (next.get(e.getKey()) != e.getValue()) {
                e.getValue().client().close();
            }
        }
    }

    /** The client of a CUSTOM policy's provider; never null. */
    public ExtAuthzClient client(String provider) {
        Entry e = clients.get(provider);
        if (e == null) {
            return new DenyingClient("ext_authz provider \"" + provider
                    + "\" is not declared in the mesh config's extensionProviders; CUSTOM requests are denied");
        }
        return e.client();
    }

    private ExtAuthzClient build(ExtensionProvider p) {
        return switch (p) {
            case ExtensionProvider.ExtAuthzHttp http ->
                new HttpExtAuthzClient(http, group, channelClass, resolver, meshDialer);
            case ExtensionProvider.ExtAuthzGrpc grpc ->
                new GrpcExtAuthzClient(grpc, group, channelClass, resolver, meshDialer);
            case ExtensionProvider.Other o ->
                new DenyingClient("extension provider \"" + o.name() + "\" is "
                        + (o.kind() == null ? "declared by name only" : "a " + o.kind() + " provider")
                        + ", not envoyExtAuthzHttp or envoyExtAuthzGrpc; CUSTOM requests are denied");
        };
    }

    @Override
    public synchronized void close() {
        for (Entry e : clients.values()) {
            e.client().close();
        }
        clients = Map.of();
    }
}
