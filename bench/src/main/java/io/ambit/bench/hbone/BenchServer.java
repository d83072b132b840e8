package io.ambit.bench.hbone;

import io.ambit.hbone.server.ConnectResponse;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The server side of the JMH benchmarks: an {@link HboneServer} on 127.0.0.1 with default TLS settings
 * (X25519MLKEM768 preferred, X25519 accepted) that answers every CONNECT {@code 200} and ends each stream
 * when the client ends it; nothing is connected upstream, so a benchmark measures HBONE alone. It owns
 * one event loop for the server and one for the client side, on the transport {@link Transports#select()}
 * picks ({@code -Dambit.transport} to force one).
 */
final class BenchServer implements AutoCloseable {
    final BenchPki pki = BenchPki.create();
    final Transport transport = Transports.select();
    final EventLoopGroup serverLoop = transport.newEventLoopGroup(1, "bench-server");
    final EventLoopGroup clientLoop = transport.newEventLoopGroup(1, "bench-client");
    private final ServerTls tls = new ServerTls(pki::server, TlsSettings.defaults());
    private final HboneServer server;

    BenchServer() throws Exception {
        server = HboneServer.start(
                        HboneServerConfig.defaults(new InetSocketAddress("127.0.0.1", 0)),
                        tls,
                        request -> CompletableFuture.completedFuture(
                                ConnectResponse.accept(Map.of(), Streams::answerEndWithEnd)),
                        transport,
                        serverLoop)
                .get(10, TimeUnit.SECONDS);
    }

    InetSocketAddress address() {
        return server.localAddress();
    }

    @Override
    public void close() {
        server.close();
        tls.close();
        clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        serverLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
