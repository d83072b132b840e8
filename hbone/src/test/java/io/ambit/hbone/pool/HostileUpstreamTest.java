package io.ambit.hbone.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.TestLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * security-cases row 14 (CVE-2021-32780): an upstream that answers with GOAWAY and then SETTINGS
 * max_concurrent_streams=0 must fail the tunnel cleanly and leave the pool serving other upstreams.
 */
@ExtendWith(NoLeaks.class)
final class HostileUpstreamTest {
    private static TestLoops loops;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    /** After the TLS handshake: GOAWAY(NO_ERROR, last stream 0), then SETTINGS(max_concurrent_streams=0). */
    private static final class GoAwayThenZeroStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                ctx.writeAndFlush(new DefaultHttp2SettingsFrame(new Http2Settings().maxConcurrentStreams(0)));
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg); // whatever the client sends is ignored
        }
    }

    @Test
    void goAwayThenZeroStreamsFailsTheTunnelAndThePoolKeepsServingOthers() throws Exception {
        try (HboneFixture hbone = HboneFixture.start(loops, new StreamEcho())) {
            SslContext tls = RawTls.server(hbone.serverCert, null);
            Channel hostile = new ServerBootstrap()
                    .group(loops.group)
                    .channel(loops.transport.serverChannelClass())
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(tls.newHandler(ch.alloc()))
                                    .addLast(Http2FrameCodecBuilder.forServer().build())
                                    .addLast(new GoAwayThenZeroStreams());
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0))
                    .sync()
                    .channel();
            try {
                var key = new PoolKey(Ids.CLIENT, Set.of(Ids.SERVER), null, (InetSocketAddress) hostile.localAddress());
                var request = TunnelRequest.to(Authority.parse("127.0.0.1:9"));

                Throwable failure = Await.failure(hbone.pool.connect(key, request));
                assertThat(failure).isNotNull();

                // the pool still opens tunnels to a well-behaved upstream
                var stream = Await.get(hbone.pool.connect(hbone.key(), request));
                assertThat(stream.channel().isActive()).isTrue();
                Await.get(stream.channel().close());
            } finally {
                hostile.close().sync();
                io.netty.util.ReferenceCountUtil.release(tls);
            }
        }
    }
}
