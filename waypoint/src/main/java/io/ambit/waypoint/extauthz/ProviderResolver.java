package io.ambit.waypoint.extauthz;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Where a provider's {@code service:port} is. DNS by default, off the event loops; a waypoint that knows
 * the mesh can map service hostnames to endpoints itself.
 */
public interface ProviderResolver {
    /** The address for a new HTTP connection to {@code host:port}; called off the hot path, per connection. */
    CompletionStage<InetSocketAddress> resolve(String host, int port);

    /** The grpc-java target for a gRPC provider (grpc-java resolves and re-resolves it). */
    default String grpcTarget(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** JDK DNS on virtual threads (so a slow resolver never holds an event loop). */
    static ProviderResolver dns() {
        Executor executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("ambit-extauthz-dns-", 0).factory());
        return (host, port) -> CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return new InetSocketAddress(InetAddress.getByName(host), port);
                    } catch (UnknownHostException e) {
                        throw new IllegalStateException(
                                "cannot resolve ext_authz service " + host + ": " + e.getMessage());
                    }
                },
                executor);
    }
}
