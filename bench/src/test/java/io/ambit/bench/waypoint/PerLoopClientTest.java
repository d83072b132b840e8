package io.ambit.bench.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.server.HboneServer;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.hbone.tunnel.TargetDialer;
import io.ambit.hbone.tunnel.TcpTunnelListener;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The waypoint harness's client hop pools as its documentation says (bench/README "Waypoint"): {@code per-loop}, the
 * default and what Ambit's ztunnel does, keeps one HBONE connection per event loop of the hop, each socket's tunnel
 * on its own loop's connection; {@code shared} puts every socket's tunnel on one connection. Real sockets through a
 * real HBONE server (mutual TLS, certificates of a local CA) to an echo server; ephemeral ports on 127.0.0.1.
 */
final class PerLoopClientTest {
    private static final SpiffeId CLIENT = SpiffeId.parse("spiffe://cluster.local/ns/bench/sa/bench-client");
    private static final SpiffeId NODE = SpiffeId.parse("spiffe://cluster.local/ns/bench/sa/app");
    private static final int SOCKETS = 8;

    @TempDir
    static Path caDir;

    private static Transport transport;
    private static EventLoopGroup hopLoops; // the client hop's: two loops, used by nothing else
    private static EventLoopGroup serverLoops;
    private static ScheduledExecutorService timer;
    private static ExecutorService signer;
    private static CertificateManager certs;
    private static HboneServer node;
    private static ServerSocket echo;
    private static ExecutorService echoThreads;

    @BeforeAll
    static void start() throws Exception {
        transport = Transports.select();
        // Separate groups: the hop's accepted sockets alone advance its group's round-robin, so SOCKETS sockets
        // land on both of its loops.
        hopLoops = transport.newEventLoopGroup(2, "perloop-test-hop");
        serverLoops = transport.newEventLoopGroup(1, "perloop-test-node");
        timer = Executors.newSingleThreadScheduledExecutor();
        signer = Executors.newVirtualThreadPerTaskExecutor();
        certs = CertificateManager.builder(LocalCa.open(caDir, Clock.systemUTC()), Scheduler.of(timer), signer)
                .build();
        certs.certificate(CLIENT).get(30, TimeUnit.SECONDS);
        certs.certificate(NODE).get(30, TimeUnit.SECONDS);
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        echoThreads = Executors.newVirtualThreadPerTaskExecutor();
        echoThreads.execute(PerLoopClientTest::echoLoop);
        node = HboneServer.start(
                        HboneServerConfig.defaults(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)),
                        ServerTls.forIdentity(certs, NODE, TlsSettings.defaults(), null),
                        new TargetDialer(transport),
                        transport,
                        serverLoops)
                .get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (echoThreads != null) {
            echoThreads.shutdownNow();
        }
        if (certs != null) {
            certs.close();
        }
        if (hopLoops != null) {
            hopLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        if (serverLoops != null) {
            serverLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        if (signer != null) {
            signer.shutdownNow();
        }
    }

    @Test
    void perLoopKeepsOneConnectionPerEventLoop() throws Exception {
        try (HbonePool pool = pool()) {
            PoolKey key = key();
            Channel listener = PerLoopClient.start(
                    transport,
                    hopLoops,
                    pool,
                    key,
                    (InetSocketAddress) echo.getLocalSocketAddress(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try {
                echoThrough((InetSocketAddress) listener.localAddress());
                assertThat(pool.connectionCount(key))
                        .as("HBONE connections for %d sockets on a hop with 2 event loops", SOCKETS)
                        .isEqualTo(2);
            } finally {
                listener.close().await(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void sharedPutsEverySocketOnOneConnection() throws Exception {
        try (HbonePool pool = pool()) {
            PoolKey key = key();
            try (TcpTunnelListener listener = TcpTunnelListener.start(
                    transport,
                    hopLoops,
                    () -> pool,
                    key,
                    (InetSocketAddress) echo.getLocalSocketAddress(),
                    true,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                echoThrough(listener.address());
                assertThat(pool.connectionCount(key))
                        .as("HBONE connections for %d sockets, shared pool", SOCKETS)
                        .isEqualTo(1);
            }
        }
    }

    /** Opens SOCKETS connections to the hop, all at once, and checks each one's bytes come back through HBONE. */
    private static void echoThrough(InetSocketAddress hop) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < SOCKETS; i++) {
                Socket s = new Socket(hop.getAddress(), hop.getPort());
                s.setSoTimeout(10_000);
                sockets.add(s);
            }
            for (int i = 0; i < SOCKETS; i++) {
                byte[] sent = ("hello through HBONE " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                OutputStream out = sockets.get(i).getOutputStream();
                out.write(sent);
                out.flush();
                InputStream in = sockets.get(i).getInputStream();
                assertThat(in.readNBytes(sent.length)).isEqualTo(sent);
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    private static HbonePool pool() {
        return new HbonePool(
                PoolConfig.defaults(),
                new ClientTls(TlsSettings.defaults()),
                SourceCertificates.from(certs),
                transport,
                hopLoops);
    }

    private static PoolKey key() {
        return new PoolKey(CLIENT, Set.of(NODE), null, node.localAddress());
    }

    private static void echoLoop() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                echoThreads.execute(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException e) {
                        // the client closed: the test is over for this socket
                    }
                });
            } catch (IOException e) {
                return; // closed by stop()
            }
        }
    }
}
