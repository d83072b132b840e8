package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * An {@code envoyExtAuthzGrpc} provider: {@code Authorization/Check} over grpc-java (HTTP/2 on the
 * waypoint's event loops: plaintext, or inside HBONE when the provider is in the mesh — {@link MeshBridge}),
 * with the provider's {@code timeout} as the call deadline. Answers are bounded (64 KiB message, 32 KiB
 * metadata); a failed call is an error verdict.
 *
 * <p>Checks are spread over the provider's endpoints by grpc-java's {@code round_robin}, one connection per
 * endpoint: the endpoints of its mesh service ({@link ProviderEndpoints}, following the mesh), or the
 * addresses DNS gives for a provider outside the mesh. A single connection would put every check on one
 * endpoint for as long as it lives.
 */
final class GrpcExtAuthzClient implements ExtAuthzClient {
    static final int MAX_MESSAGE = 64 * 1024;
    static final int MAX_METADATA = 32 * 1024;

    private final ExtensionProvider.ExtAuthzGrpc provider;
    private final ManagedChannel channel;
    private final AuthorizationGrpc.AuthorizationStub stub;
    private final MeshBridge bridge;
    private final ProviderEndpoints.Factory endpoints; // null: plaintext, grpc-java's DNS

    /** @param meshDialer reaches a provider in the mesh over HBONE; null: plaintext to {@code service:port} */
    @SuppressWarnings("deprecation") // nameResolverFactory: the only per-channel resolver hook of grpc-java 1.85
    GrpcExtAuthzClient(
            ExtensionProvider.ExtAuthzGrpc provider,
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver,
            MeshDialer meshDialer) {
        this.provider = provider;
        NettyChannelBuilder builder;
        if (meshDialer == null) {
            bridge = null;
            endpoints = null;
            builder = NettyChannelBuilder.forTarget(resolver.grpcTarget(provider.host(), provider.port()))
                    .channelType(channelClass)
                    .eventLoopGroup(group);
        } else {
            // Each connection grpc-java opens is routed when it opens: HBONE into the mesh, or TCP outside it.
            bridge = MeshBridge.start(group, channelClass, resolver, meshDialer, provider.host(), provider.port(), (int)
                    Math.min(Integer.MAX_VALUE, provider.timeout().toMillis()));
            endpoints = new ProviderEndpoints.Factory(bridge, meshDialer, provider.host(), provider.port());
            builder = NettyChannelBuilder.forTarget(ProviderEndpoints.SCHEME + ":///provider")
                    .nameResolverFactory(endpoints)
                    .channelType(io.netty.channel.local.LocalChannel.class)
                    .eventLoopGroup(bridge.loops())
                    .overrideAuthority(resolver.grpcTarget(provider.host(), provider.port()));
        }
        this.channel = builder.usePlaintext()
                .defaultLoadBalancingPolicy("round_robin")
                .directExecutor() // the callback only completes a future
                .maxInboundMessageSize(MAX_MESSAGE)
                .maxInboundMetadataSize(MAX_METADATA)
                .build();
        this.stub = AuthorizationGrpc.newStub(channel);
        channel.getState(true); // connect now, so that the first check does not pay for it
    }

    @Override
    public ExtensionProvider.RequestBody body() {
        return provider.includeRequestBodyInCheck();
    }

    @Override
    public CompletionStage<ExtAuthzVerdict> check(CheckInput input) {
        var body = provider.includeRequestBodyInCheck();
        if (body != null && input.bodyTruncated() && !body.allowPartialMessage()) {
            return CompletableFuture.completedFuture(ExtAuthzVerdict.deny(
                    413,
                    "Payload Too Large",
                    java.util.List.of(),
                    "request body is larger than maxRequestBytes " + body.maxRequestBytes()
                            + " of ext_authz provider \"" + provider.name() + "\""));
        }
        if (endpoints != null) {
            endpoints.meshMayHaveChanged(); // new or gone endpoints: the next checks follow
        }
        var result = new CompletableFuture<ExtAuthzVerdict>();
        stub.withDeadlineAfter(provider.timeout().toNanos(), TimeUnit.NANOSECONDS)
                .check(GrpcCheckMessages.request(provider, input), new StreamObserver<>() {
                    @Override
                    public void onNext(CheckResponse r) {
                        result.complete(GrpcCheckMessages.verdict(provider, r));
                    }

                    @Override
                    public void onError(Throwable t) {
                        var s = Status.fromThrowable(t);
                        if (s.getCode() == Status.Code.UNAVAILABLE) {
                            // grpc-java would wait out a growing backoff (up to 2 min) before dialing again; Envoy
                            // dials for the next check. A provider that is back answers the next request.
                            channel.resetConnectBackoff();
                        }
                        result.complete(ExtAuthzVerdict.error(
                                provider.failOpen(),
                                provider.statusOnError(),
                                "ext_authz provider \"" + provider.name() + "\" call failed: " + s.getCode()
                                        + (s.getDescription() == null ? "" : " " + s.getDescription())));
                    }

                    @Override
                    public void onCompleted() {
                        result.complete(ExtAuthzVerdict.error(
                                provider.failOpen(),
                                provider.statusOnError(),
                                "ext_authz provider \"" + provider.name() + "\" sent no answer"));
                    }
                });
        return result;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        if (bridge != null) {
            bridge.close();
        }
    }
}
