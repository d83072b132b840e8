package io.ambit.hbone.testsupport;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A realistic inbound handler: connects to the authority's address on the stream's event loop and
 * tunnels to it; 503 when the connect fails. An optional gate decides first (e.g. answer 401, or wait for
 * the test to release it); every request is recorded.
 */
public final class UpstreamConnector implements ConnectHandler {
    private final Transport transport;
    private final Function<ConnectRequest, CompletionStage<ConnectStatus>> gate;
    public final BlockingQueue<ConnectRequest> requests = new LinkedBlockingQueue<>();
    public final AtomicInteger calls = new AtomicInteger();

    public UpstreamConnector(Transport transport) {
        this(transport, r -> CompletableFuture.completedFuture(ConnectStatus.OK));
    }

    public UpstreamConnector(Transport transport, Function<ConnectRequest, CompletionStage<ConnectStatus>> gate) {
        this.transport = transport;
        this.gate = gate;
    }

    @Override
    public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
        calls.incrementAndGet();
        requests.add(request);
        return gate.apply(request).thenCompose(status -> {
            if (status != ConnectStatus.OK) {
                return CompletableFuture.completedFuture(ConnectResponse.reject(status, "gate"));
            }
            CompletableFuture<ConnectResponse> answer = new CompletableFuture<>();
            new Bootstrap()
                    .group(request.eventLoop())
                    .channel(transport.socketChannelClass())
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new InboundHold(64 * 1024))
                    .connect(request.authority().socketAddress().orElseThrow())
                    .addListener(f -> {
                        if (f.isSuccess()) {
                            answer.complete(ConnectResponse.tunnel(((io.netty.channel.ChannelFuture) f).channel()));
                        } else {
                            answer.complete(ConnectResponse.reject(
                                    ConnectStatus.SERVICE_UNAVAILABLE, "upstream: " + f.cause()));
                        }
                    });
            return answer;
        });
    }
}
