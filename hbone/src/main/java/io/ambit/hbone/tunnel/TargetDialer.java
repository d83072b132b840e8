package io.ambit.hbone.tunnel;

import io.ambit.hbone.relay.InboundHold;
import io.ambit.hbone.relay.ReadAllocators;
import io.ambit.hbone.server.ConnectHandler;
import io.ambit.hbone.server.ConnectRequest;
import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.ConnectStatus;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * ztunnel's inbound in miniature: connects to the CONNECT authority on the stream's own event loop (so
 * both halves of the relay share a thread) and tunnels to it; 503 when the connect fails. Only targets
 * the given predicate allows are served (401 otherwise): never an open proxy.
 */
public final class TargetDialer implements ConnectHandler {
    /** As Netty's default connect timeout. */
    private static final int CONNECT_TIMEOUT_MILLIS = 30_000;

    private final Transport transport;
    private final Predicate<InetSocketAddress> allowed;
    private final Function<ConnectRequest, InetSocketAddress> source;

    /** Serves loopback targets only. */
    public TargetDialer(Transport transport) {
        this(transport, a -> a.getAddress().isLoopbackAddress());
    }

    public TargetDialer(Transport transport, Predicate<InetSocketAddress> allowed) {
        this(transport, allowed, request -> null);
    }

    /**
     * @param source the local address to bind before connecting for a request, or null for the system's
     *     choice (ztunnel in a pod binds the client's own IP, so the app sees the real peer)
     */
    public TargetDialer(
            Transport transport,
            Predicate<InetSocketAddress> allowed,
            Function<ConnectRequest, InetSocketAddress> source) {
        this.transport = transport;
        this.allowed = allowed;
        this.source = source;
    }

    @Override
    public CompletionStage<ConnectResponse> onConnect(ConnectRequest request) {
        Optional<InetSocketAddress> target = request.authority().socketAddress();
        if (target.isEmpty() || !allowed.test(target.get())) {
            return CompletableFuture.completedFuture(ConnectResponse.reject(
                    ConnectStatus.UNAUTHORIZED,
                    "target " + request.authority() + " is not allowed (expected an ip:port "
                            + "this server may dial)"));
        }
        return dial(request, target.get(), source.apply(request));
    }

    /**
     * Connects to {@code target} on the stream's event loop and answers {@code 200} with a tunnel to it,
     * or {@code 503} when the connect fails — for a caller that decided the target itself (ztunnel's
     * inbound, which may dial another port than the authority's). No check of {@code target} here.
     *
     * @param bind the local address to bind first, or null for the system's choice
     */
    public CompletionStage<ConnectResponse> dial(
            ConnectRequest request, InetSocketAddress target, InetSocketAddress bind) {
        CompletableFuture<ConnectResponse> answer = new CompletableFuture<>();
        ChannelFuture connected = transport
                .configure(new Bootstrap()) // keepalive with ztunnel's timers
                .group(request.eventLoop())
                .channelFactory(transport.socketChannelFactory())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadAllocators.SOCKET)
                // Our own timer instead of Netty's: Netty keeps its cancelled connect timer (and what it refers
                // to) in the channel for as long as the connection lives; ours is dropped once connected.
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
                // held until the relay is in place (Netty reads a half-closed socket even with auto-read off)
                .handler(new InboundHold(64 * 1024))
                .connect(target, bind);
        ScheduledFuture<?> timeout = connected.isDone() || !(connected instanceof ChannelPromise pending)
                ? null
                : request.eventLoop()
                        .schedule(
                                () -> {
                                    if (pending.tryFailure(new ConnectTimeoutException("connection timed out after "
                                            + CONNECT_TIMEOUT_MILLIS + " ms: " + target))) {
                                        pending.channel().close();
                                    }
                                },
                                CONNECT_TIMEOUT_MILLIS,
                                TimeUnit.MILLISECONDS);
        connected.addListener(f -> {
            if (timeout != null) {
                timeout.cancel(false);
            }
            answer.complete(
                    f.isSuccess()
                            ? ConnectResponse.tunnel(connected.channel())
                            : ConnectResponse.reject(ConnectStatus.SERVICE_UNAVAILABLE, "upstream: " + f.cause()));
        });
        return answer;
    }
}
