package io.ambit.controlplane;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers the authentication headers of the last call of each method ({@code authorization},
 * {@code clusterid}), so a developer (and a test) can see what a client sends. The local control plane
 * authenticates no one; it only shows.
 */
final class HeaderLog implements ServerInterceptor {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> CLUSTER_ID =
            Metadata.Key.of("clusterid", Metadata.ASCII_STRING_MARSHALLER);

    private final Map<String, Map<String, String>> last = new ConcurrentHashMap<>();

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        var seen = new java.util.LinkedHashMap<String, String>();
        String auth = headers.get(AUTHORIZATION);
        String cluster = headers.get(CLUSTER_ID);
        if (auth != null) {
            seen.put("authorization", auth);
        }
        if (cluster != null) {
            seen.put("clusterid", cluster);
        }
        last.put(call.getMethodDescriptor().getFullMethodName(), Map.copyOf(seen));
        return next.startCall(call, headers);
    }

    /** Method → header → value of the last call. */
    Map<String, Map<String, String>> last() {
        return Map.copyOf(last);
    }
}
