package io.ambit.waypoint.extauthz;

import io.ambit.policy.mesh.ExtensionProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@code envoyExtAuthzHttp} provider: one check is one HTTP/1.1 exchange on a pooled keep-alive
 * connection, bounded by the provider's {@code timeout} from the moment it is asked. Phases: acquire a
 * connection, write the check, read the aggregated answer, map it ({@link HttpCheckMessages}). A pooled
 * connection the provider closed while idle is retried once on a new one.
 */
final class HttpExtAuthzClient implements ExtAuthzClient {
    /** Most checks in flight to one provider; more are errors at once (bounded, never a queue). */
    static final int MAX_CONNECTIONS = 512;

    private final ExtensionProvider.ExtAuthzHttp provider;
    private final EventLoopGroup group;
    private final ConnectionPool pool;

    HttpExtAuthzClient(
            ExtensionProvider.ExtAuthzHttp provider,
            EventLoopGroup group,
            Class<? extends SocketChannel> channelClass,
            ProviderResolver resolver,
            MeshDialer meshDialer) {
        this.provider = provider;
        this.group = group;
        this.pool = new ConnectionPool(
                group, channelClass, resolver, meshDialer, provider.host(), provider.port(), MAX_CONNECTIONS, (int)
                        Math.min(Integer.MAX_VALUE, provider.timeout().toMillis()));
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
                    List.of(),
                    "request body is larger than maxRequestBytes " + body.maxRequestBytes()
                            + " of ext_authz provider \"" + provider.name() + "\""));
        }
        var result = new CompletableFuture<HttpCheckMessages.Response>();
        ScheduledFuture<?> deadline = group.next()
                .schedule(
                        () -> result.completeExceptionally(new TimeoutException(
                                "no answer within " + provider.timeout().toMillis() + " ms")),
                        provider.timeout().toNanos(),
                        TimeUnit.NANOSECONDS);
        attempt(input, result);
        return result.handle((response, error) -> {
            deadline.cancel(false);
            if (error != null) {
                return ExtAuthzVerdict.error(
                        provider.failOpen(),
                        provider.statusOnError(),
                        "ext_authz provider \"" + provider.name() + "\" at " + provider.host() + ":" + provider.port()
                                + " failed: " + describe(error));
            }
            return HttpCheckMessages.verdict(provider, response);
        });
    }

    private void attempt(CheckInput input, CompletableFuture<HttpCheckMessages.Response> result) {
        pool.acquire().whenComplete((lease, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            if (result.isDone()) { // timed out while connecting
                pool.release(lease.channel(), true);
                return;
            }
            exchange(lease.channel(), input, result, lease.reused());
        });
    }

    /**
     * Writes the check and waits for its answer. {@code mayRetry}: the connection was idle in the pool, so
     * a close before any answer byte means the provider dropped it meanwhile, and a new one is tried.
     */
    private void exchange(
            Channel ch, CheckInput input, CompletableFuture<HttpCheckMessages.Response> result, boolean mayRetry) {
        var handler = new Exchange();
        result.whenComplete((r, e) -> {
            if (e != null && !handler.done.isDone()) {
                ch.close(); // timed out: this connection may still receive the late answer, so it goes
            }
        });
        ch.eventLoop().execute(() -> {
            if (!ch.isActive()) {
                retryOrFail(input, result, mayRetry, "the pooled connection was closed");
                return;
            }
            ch.pipeline().addLast("check", handler);
            FullHttpRequest request = HttpCheckMessages.request(provider, input);
            ch.writeAndFlush(request).addListener(f -> {
                if (!f.isSuccess()) {
                    handler.done.completeExceptionally(f.cause());
                }
            });
        });
        handler.done.whenComplete((response, error) -> {
            ch.eventLoop().execute(() -> {
                if (ch.pipeline().get("check") == handler) {
                    ch.pipeline().remove(handler);
                }
                // A timed-out exchange may still get its answer later: that connection is not reused.
                pool.release(ch, error == null && response.keepAlive() && !result.isDone());
                if (error == null) {
                    result.complete(response);
                } else if (handler.gotBytes) {
                    result.completeExceptionally(error);
                } else {
                    retryOrFail(input, result, mayRetry, describe(error));
                }
            });
        });
    }

    private void retryOrFail(
            CheckInput input, CompletableFuture<HttpCheckMessages.Response> result, boolean mayRetry, String why) {
        if (mayRetry && !result.isDone()) {
            attempt(input, result);
        } else {
            result.completeExceptionally(new IllegalStateException(why));
        }
    }

    private static String describe(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        String m = c.getMessage();
        return c.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public void close() {
        pool.close();
    }

    /** One check's response handler, added for the exchange and removed after it. */
    private static final class Exchange extends SimpleChannelInboundHandler<FullHttpResponse> {
        final CompletableFuture<HttpCheckMessages.Response> done = new CompletableFuture<>();
        volatile boolean gotBytes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            gotBytes = true;
            super.channelRead(ctx, msg);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
            if (r.decoderResult().isFailure()) {
                // e.g. headers over the limit: Netty hands over a placeholder; the connection is unusable
                done.completeExceptionally(new IllegalStateException(
                        "unreadable answer: " + r.decoderResult().cause().getMessage()));
                ctx.close();
                return;
            }
            var headers = new ArrayList<Map.Entry<String, String>>();
            for (var e : r.headers()) {
                headers.add(Map.entry(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
            }
            done.complete(new HttpCheckMessages.Response(
                    r.status().code(), headers, r.content().toString(StandardCharsets.UTF_8), HttpUtil.isKeepAlive(r)));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IllegalStateException("the provider closed the connection"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof java.io.IOException)) {
                gotBytes = true; // a decoding error: the provider did answer, badly; not retried
            }
            done.completeExceptionally(cause);
            ctx.close();
        }
    }
}
