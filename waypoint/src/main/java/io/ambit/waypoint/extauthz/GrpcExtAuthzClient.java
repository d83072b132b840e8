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
 * An {@code envoyExtAuthzGrpc} provider: {@code Authorization/Check} over grpc-java (plaintext HTTP/2 on
 * the waypoint's event loops), with the provider's {@code timeout} as the call deadline. Answers are
 * bounded (64 KiB message, 32 KiB metadata); a failed call is an error verdict.
 */
final class GrpcExtAuthzClient implements ExtAuthzClient {
    static final int MAX_MESSAGE = 64 * 1024;
    static final int MAX_METADATA = 32 * 1024;

    private final ExtensionProvider.ExtAuthzGrpc provider;
    private final ManagedChannel channel;
    private final AuthorizationGrpc.AuthorizationStub stub;

    GrpcExtAuthzClient(
            ExtensionProvider.ExtAuthzGrpc provider,
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver) {
        this.provider = provider;
        this.channel = NettyChannelBuilder.forTarget(resolver.grpcTarget(provider.host(), provider.port()))
                .eventLoopGroup(group)
                .channelType(channelClass)
                .usePlaintext()
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
    }
}
