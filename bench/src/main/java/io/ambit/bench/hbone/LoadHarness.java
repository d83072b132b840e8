package io.ambit.bench.hbone;

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
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The end-to-end load harness: in one JVM, an Ambit client side (TCP listeners on 127.0.0.1, each tunnelling
 * to one target through HBONE, see {@link TcpTunnelListener}) and an Ambit server side (an {@link HboneServer}
 * on 127.0.0.1 whose handler connects to the target and relays, see {@link TargetDialer}), with
 * certificates from an in-memory CA. Point iperf3 or the latency and connection-rate clients at a listener:
 *
 * <pre>
 * app → listener → HBONE (mTLS 1.3, HTTP/2 CONNECT) → HBONE server → target 127.0.0.1:PORT
 * </pre>
 *
 * <p>Run: {@code java -cp bench/target/ambit-bench.jar io.ambit.bench.hbone.LoadHarness --target 5201
 * [--target 7000] [--unpooled] [--threads 1] [--max-seconds 3600]}. It prints one {@code listener} line
 * per listener, then {@code ready}; it stops on SIGTERM or after {@code --max-seconds}, printing per-listener
 * counts and the TLS parameters of the first tunnel (protocol, cipher, key-exchange group). The transport
 * is {@link Transports#select()}'s: epoll, else io_uring, else NIO; {@code -Dambit.transport=nio} forces one.
 */
public final class LoadHarness implements AutoCloseable {
    private final Transport transport;
    private final EventLoopGroup clientLoops;
    private final EventLoopGroup serverLoops;
    private final ServerTls serverTls;
    private final ClientTls clientTls;
    private final HboneServer server;
    private final HbonePool sharedPool;
    private final List<TcpTunnelListener> listeners;

    /**
     * @param targets the loopback ports to tunnel to, one pooled listener each
     * @param unpooled also one unpooled listener per target (a new HBONE connection per tunnel)
     * @param threads event loops of each side: the client side's serve its listeners and its HBONE
     *     connections (so a pooled tunnel's two halves share a thread), the server side's its HBONE
     *     connections and their upstreams; two groups, as two ztunnels on two nodes would have
     */
    record Options(List<Integer> targets, boolean unpooled, int threads, Duration lifetime) {
        Options {
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("--target: none (expected at least one port)");
            }
            for (int port : targets) {
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException("--target " + port + " (expected 1-65535)");
                }
            }
            if (threads < 1) {
                throw new IllegalArgumentException("--threads " + threads + " (expected: > 0)");
            }
            if (lifetime.isNegative() || lifetime.isZero()) {
                throw new IllegalArgumentException("--max-seconds " + lifetime.toSeconds() + " (expected: > 0)");
            }
            targets = List.copyOf(targets);
        }
    }

    private LoadHarness(
            Transport transport,
            EventLoopGroup clientLoops,
            EventLoopGroup serverLoops,
            ServerTls serverTls,
            ClientTls clientTls,
            HboneServer server,
            HbonePool sharedPool,
            List<TcpTunnelListener> listeners) {
        this.transport = transport;
        this.clientLoops = clientLoops;
        this.serverLoops = serverLoops;
        this.serverTls = serverTls;
        this.clientTls = clientTls;
        this.server = server;
        this.sharedPool = sharedPool;
        this.listeners = listeners;
    }

    static LoadHarness start(Options options) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup clientLoops = transport.newEventLoopGroup(options.threads(), "ambit-client-" + transport);
        EventLoopGroup serverLoops = transport.newEventLoopGroup(options.threads(), "ambit-server-" + transport);
        BenchPki pki = BenchPki.create();
        ServerTls serverTls = new ServerTls(pki::server, TlsSettings.defaults());
        ClientTls clientTls = new ClientTls(TlsSettings.defaults());
        HboneServer server = HboneServer.start(
                        HboneServerConfig.defaults(new InetSocketAddress("127.0.0.1", 0)),
                        serverTls,
                        new TargetDialer(transport),
                        transport,
                        serverLoops)
                .get(10, TimeUnit.SECONDS);
        PoolKey key = new PoolKey(BenchPki.CLIENT, Set.of(BenchPki.SERVER), null, server.localAddress());
        SourceCertificates certificates = SourceCertificates.of(pki::client);
        Supplier<HbonePool> newPool =
                () -> new HbonePool(PoolConfig.defaults(), clientTls, certificates, transport, clientLoops);
        HbonePool shared = newPool.get();
        List<TcpTunnelListener> listeners = new ArrayList<>();
        for (int port : options.targets()) {
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", port);
            listeners.add(TcpTunnelListener.start(transport, clientLoops, () -> shared, key, target, true));
            if (options.unpooled()) {
                listeners.add(TcpTunnelListener.start(transport, clientLoops, newPool, key, target, false));
            }
        }
        return new LoadHarness(
                transport, clientLoops, serverLoops, serverTls, clientTls, server, shared, List.copyOf(listeners));
    }

    List<TcpTunnelListener> listeners() {
        return listeners;
    }

    /** The first listener tunnelling to {@code port} in the given mode. */
    TcpTunnelListener listener(int port, boolean pooled) {
        return listeners.stream()
                .filter(l -> l.target().getPort() == port && l.pooled() == pooled)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "no " + (pooled ? "pooled" : "unpooled") + " listener for port " + port));
    }

    String describe() {
        return "transport=" + transport + " hbone=" + server.localAddress().getHostString() + ":"
                + server.localAddress().getPort();
    }

    @Override
    public void close() {
        listeners.forEach(TcpTunnelListener::close);
        sharedPool.close();
        server.close();
        serverTls.close();
        clientTls.close();
        clientLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        serverLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("LoadHarness: " + e.getMessage());
            System.err.println("usage: LoadHarness --target PORT [--target PORT ...] [--unpooled] [--threads N]"
                    + " [--max-seconds S]");
            System.exit(2);
            return;
        }
        LoadHarness harness = start(options);
        System.out.println(harness.describe() + " threads=" + options.threads() + "+" + options.threads());
        for (TcpTunnelListener l : harness.listeners()) {
            System.out.println("listener 127.0.0.1:" + l.address().getPort() + " target=127.0.0.1:"
                    + l.target().getPort() + " mode=" + (l.pooled() ? "pooled" : "unpooled"));
        }
        System.out.println("ready");
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            report(harness);
            harness.close();
            stopped.countDown();
        }));
        if (!stopped.await(options.lifetime().toSeconds(), TimeUnit.SECONDS)) {
            System.out.println(
                    "stopping after --max-seconds " + options.lifetime().toSeconds());
            System.exit(0); // runs the hook
        }
    }

    private static void report(LoadHarness harness) {
        for (TcpTunnelListener l : harness.listeners()) {
            System.out.println("stats 127.0.0.1:" + l.address().getPort() + " mode="
                    + (l.pooled() ? "pooled" : "unpooled") + " tunnels=" + l.tunnels.sum() + " failures="
                    + l.failures.sum() + " bytesUp=" + l.bytesUp.sum() + " bytesDown=" + l.bytesDown.sum()
                    + " firstPeer=[" + l.firstPeer.get() + "]");
        }
        System.out.println("pool " + harness.sharedPool.stats());
        System.out.flush();
    }

    static Options parse(String[] args) {
        List<Integer> targets = new ArrayList<>();
        boolean unpooled = false;
        int threads = 1;
        long seconds = 3600;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> targets.add(intArg(args, ++i, "--target"));
                case "--unpooled" -> unpooled = true;
                case "--threads" -> threads = intArg(args, ++i, "--threads");
                case "--max-seconds" -> seconds = intArg(args, ++i, "--max-seconds");
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        return new Options(targets, unpooled, threads, Duration.ofSeconds(seconds));
    }

    static int intArg(String[] args, int i, String name) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + ": missing value (expected a number)");
        }
        try {
            return Integer.parseInt(args[i]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + args[i] + " (expected a number)");
        }
    }
}
