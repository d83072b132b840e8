package io.ambit.bench.hbone;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentityException;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.server.TraceParent;
import io.ambit.hbone.transport.Channels;
import io.ambit.hbone.transport.Http2Config;
import io.ambit.hbone.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSession;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * A one-shot HBONE client for {@link HandshakeBench}, whose key-exchange group can be pinned: Ambit's
 * {@code ClientTls} offers its compliance policy's groups (X25519MLKEM768, then X25519) and the server
 * picks the first, so an X25519 handshake needs a client that offers only X25519. Otherwise it dials as
 * {@code HbonePool} does: tcnative BoringSSL (reference-counted), TLS 1.3, AES-GCM, ALPN h2, no SNI, no
 * session cache, client certificate, the server's chain verified against the roots and its SPIFFE id
 * checked; then HTTP/2 with the pool's settings, the server's SETTINGS awaited, and one CONNECT whose
 * {@code 200} completes the tunnel.
 */
final class HboneDialer implements AutoCloseable {
    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2);

    private final SslContext context;
    private final SpiffeId expectedServer;
    private final Http2Config http2 = Http2Config.clientDefaults();
    private final Transport transport;
    private final EventLoopGroup group;

    /** An open tunnel: its connection, its stream, and the key-exchange group the handshake used. */
    record Tunnel(Channel connection, Http2StreamChannel stream, String namedGroup) {
        /** Closes the connection without GOAWAY or close_notify, as the pool does (and its stream with it). */
        ChannelFuture closeAbruptly() {
            return Channels.closeAbruptly(connection);
        }
    }

    HboneDialer(
            WorkloadCertificate source,
            SpiffeId expectedServer,
            String group,
            Transport transport,
            EventLoopGroup loops)
            throws SSLException {
        this.expectedServer = expectedServer;
        this.transport = transport;
        this.group = loops;
        this.context = SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .keyManager(source.key(), source.chain().toArray(X509Certificate[]::new))
                .trustManager(source.roots().toArray(X509Certificate[]::new))
                .endpointIdentificationAlgorithm(null) // SPIFFE certificates have no host name (java-stack P3)
                .protocols("TLSv1.3")
                .ciphers(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"))
                .applicationProtocolConfig(ALPN)
                .option(OpenSslContextOption.GROUPS, new String[] {group})
                .build();
        ((OpenSslSessionContext) context.sessionContext()).setSessionCacheEnabled(false);
    }

    /** Dials {@code server} and opens a CONNECT to {@code authority}; completes on {@code 200}. */
    CompletableFuture<Tunnel> open(InetSocketAddress server, Authority authority) {
        CompletableFuture<Tunnel> tunnel = new CompletableFuture<>();
        ChannelFuture connected = new Bootstrap()
                .group(group)
                .channel(transport.socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline()
                                .addLast("tls", context.newHandler(channel.alloc()))
                                .addLast("setup", new Setup(authority, tunnel));
                    }
                })
                .connect(server);
        connected.addListener(f -> {
            if (!f.isSuccess()) {
                tunnel.completeExceptionally(f.cause());
            } else {
                connected
                        .channel()
                        .closeFuture()
                        .addListener(c -> tunnel.completeExceptionally(
                                new IOException("connection closed before the CONNECT was answered")));
            }
        });
        return tunnel;
    }

    @Override
    public void close() {
        ReferenceCountUtil.release(context);
    }

    /** Handshake done → verify the server → HTTP/2 → its SETTINGS → CONNECT → 200. */
    private final class Setup extends ChannelInboundHandlerAdapter {
        private final Authority authority;
        private final CompletableFuture<Tunnel> tunnel;
        private String namedGroup;
        private boolean connectSent;

        Setup(Authority authority, CompletableFuture<Tunnel> tunnel) {
            this.authority = authority;
            this.tunnel = tunnel;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof SslHandshakeCompletionEvent done)) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            if (!done.isSuccess()) {
                fail(ctx, done.cause());
                return;
            }
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            try {
                X509Certificate leaf =
                        (X509Certificate) tls.engine().getSession().getPeerCertificates()[0];
                SpiffeId server = PeerIdentities.of(leaf, PeerIdentities.Role.SERVER);
                if (!server.equals(expectedServer)) {
                    throw new SSLException("server " + server + " (expected " + expectedServer + ")");
                }
            } catch (IOException | PeerIdentityException | RuntimeException e) {
                fail(ctx, e);
                return;
            }
            namedGroup = ((OpenSslSession) tls.engine().getSession()).getNamedGroup();
            ctx.pipeline().addBefore(ctx.name(), "h2", http2.newFrameCodec(false));
            ctx.pipeline().addBefore(ctx.name(), "h2-streams", new Http2MultiplexHandler(new RefuseStreams()));
            http2.openConnectionWindow(ctx.channel());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean settings = msg instanceof Http2SettingsFrame;
            ReferenceCountUtil.release(msg);
            if (settings && !connectSent) {
                connectSent = true;
                connect(ctx.channel());
            }
        }

        private void connect(Channel connection) {
            new Http2StreamChannelBootstrap(connection)
                    .handler(new ConnectAnswer(connection, tunnel, () -> namedGroup))
                    .open()
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            tunnel.completeExceptionally(f.cause());
                            return;
                        }
                        Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                        stream.writeAndFlush(new DefaultHttp2HeadersFrame(
                                new DefaultHttp2Headers()
                                        .method("CONNECT")
                                        .authority(authority.toString())
                                        .add("traceparent", TraceParent.random().format()),
                                false));
                    });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause);
        }

        private void fail(ChannelHandlerContext ctx, Throwable cause) {
            tunnel.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** On the stream: the server's answer; 200 completes the tunnel, anything else fails it. */
    private static final class ConnectAnswer extends ChannelInboundHandlerAdapter {
        private final Channel connection;
        private final CompletableFuture<Tunnel> tunnel;
        private final Supplier<String> namedGroup;

        ConnectAnswer(Channel connection, CompletableFuture<Tunnel> tunnel, Supplier<String> namedGroup) {
            this.connection = connection;
            this.tunnel = tunnel;
            this.namedGroup = namedGroup;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame frame && !tunnel.isDone()) {
                    CharSequence status = frame.headers().status();
                    if (status != null && status.toString().equals("200")) {
                        tunnel.complete(new Tunnel(connection, (Http2StreamChannel) ctx.channel(), namedGroup.get()));
                    } else {
                        tunnel.completeExceptionally(new IOException("CONNECT answered " + status));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /** Server-initiated streams (push) are not expected: we advertise push disabled. */
    private static final class RefuseStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().close();
        }
    }
}
