package io.ambit.bench.waypoint;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.ca.Pem;
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
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.file.LocalFileSource;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The processes of {@code bench/run-waypoint-bench.sh}, one per JVM so each one's CPU and memory can be
 * read on its own:
 *
 * <ul>
 *   <li>{@code targets}: the app (fixed 64-byte answers, HTTP/1.1 and HTTP/2 on one port) and, in front of
 *       it, the destination node's HBONE server (what a ztunnel does inbound), presenting the app's identity;
 *   <li>{@code waypoint}: the waypoints the mesh file declares (the same call as {@code ambit waypoint});
 *   <li>{@code client}: the client side's ztunnel in miniature: a local TCP port whose connections are
 *       tunnelled over pooled HBONE to the waypoint with {@code :authority = VIP:port}, pooled as Ambit's
 *       ztunnel pools (one connection per event loop, {@link PerLoopClient}; {@code --pool shared} for one
 *       connection shared by all loops).
 * </ul>
 *
 * Each prints {@code ready} once it serves, then runs until killed (by the script, by PID).
 */
public final class WaypointBench {
    private WaypointBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("missing command");
        }
        try {
            switch (args[0]) {
                case "targets" -> targets(Args.parse(args, 1, Set.of("--app", "--node", "--ca", "--identity")));
                case "waypoint" -> waypoint(Args.parse(args, 1, Set.of("--mesh", "--ca")));
                case "client" ->
                    client(Args.parse(
                            args,
                            1,
                            Set.of(
                                    "--listen",
                                    "--waypoint",
                                    "--waypoint-identity",
                                    "--target",
                                    "--ca",
                                    "--identity",
                                    "--pool")));
                case "tls-client" ->
                    tlsClient(Args.parse(
                            args, 1, Set.of("--listen", "--target", "--server-identity", "--ca", "--identity")));
                case "tls-node" -> tlsNode(Args.parse(args, 1, Set.of("--listen", "--target", "--ca", "--identity")));
                case "pem" -> pem(Args.parse(args, 1, Set.of("--ca", "--identity", "--out", "--root-out")));
                case "profile" -> ProfileSummary.run(Args.parse(args, 1, Set.of("--jfr", "--requests", "--top")));
                default -> usage("unknown command " + args[0]);
            }
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }
    }

    private static void usage(String why) {
        System.err.println(
                "waypoint bench: " + why + "\nusage: WaypointBench targets --app IP:PORT --node IP:PORT --ca DIR"
                        + " --identity SPIFFE | waypoint --mesh FILE --ca DIR | client --listen IP:PORT --waypoint IP:PORT"
                        + " --waypoint-identity SPIFFE --target VIP:PORT --ca DIR --identity SPIFFE [--pool per-loop|shared]"
                        + " | tls-client --listen IP:PORT --target IP:PORT --server-identity SPIFFE --ca DIR"
                        + " --identity SPIFFE | tls-node --listen IP:PORT --target IP:PORT --ca DIR --identity SPIFFE"
                        + " | pem --ca DIR --identity SPIFFE --out FILE --root-out FILE"
                        + " | profile --jfr FILE [--requests N] [--top N]");
        System.exit(2);
    }

    private static CertificateManager certificates(String caDir) throws Exception {
        var timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-cert-timer");
            t.setDaemon(true);
            return t;
        });
        return CertificateManager.builder(
                        LocalCa.open(Path.of(caDir), Clock.systemUTC()),
                        Scheduler.of(timer),
                        Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    private static void targets(Args a) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "bench-targets");
        var certs = certificates(a.text("--ca"));
        var identity = SpiffeId.parse(a.text("--identity"));
        certs.certificate(identity).get(30, TimeUnit.SECONDS);
        Backend.start(transport, loops, a.address("--app"));
        var tls = ServerTls.forIdentity(certs, identity, TlsSettings.defaults(), null);
        HboneServer.start(
                        HboneServerConfig.defaults(a.address("--node")),
                        tls,
                        new TargetDialer(transport),
                        transport,
                        loops)
                .get(30, TimeUnit.SECONDS);
        ready("targets: app " + a.text("--app") + ", node " + a.text("--node") + " as " + identity);
    }

    private static void waypoint(Args a) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "bench-waypoint");
        var certs = certificates(a.text("--ca"));
        var source = LocalFileSource.open(Path.of(a.text("--mesh")));
        var waypoints =
                LocalWaypoints.start(source, certs, transport, loops, AccessLog.slf4j(), LocalWaypoints.Options.all());
        ready(waypoints.banner().strip() + " (transport " + transport + ")");
    }

    private static void client(Args a) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "bench-client");
        var certs = certificates(a.text("--ca"));
        var identity = SpiffeId.parse(a.text("--identity"));
        certs.certificate(identity).get(30, TimeUnit.SECONDS);
        var pool = new HbonePool(
                PoolConfig.defaults(),
                new ClientTls(TlsSettings.defaults()),
                SourceCertificates.from(certs),
                transport,
                loops);
        var key = new PoolKey(
                identity, Set.of(SpiffeId.parse(a.text("--waypoint-identity"))), null, a.address("--waypoint"));
        // Per loop by default: what the client side's ztunnel in an Ambit mesh does (PerLoopClient).
        String mode = a.text("--pool", "per-loop");
        switch (mode) {
            case "shared" ->
                TcpTunnelListener.start(
                        transport, loops, () -> pool, key, a.address("--target"), true, a.address("--listen"));
            case "per-loop" ->
                PerLoopClient.start(transport, loops, pool, key, a.address("--target"), a.address("--listen"));
            default -> throw new IllegalArgumentException("--pool " + mode + " (expected shared or per-loop)");
        }
        ready("client: " + a.text("--listen") + " -> HBONE " + a.text("--waypoint") + " -> " + a.text("--target")
                + " (pool " + mode + ")");
    }

    /** The client's hop in TLS mode: TCP in, mutual TLS out (no HTTP/2 CONNECT), see {@link TlsHops}. */
    private static void tlsClient(Args a) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "bench-tls-client");
        var certs = certificates(a.text("--ca"));
        var identity = SpiffeId.parse(a.text("--identity"));
        certs.certificate(identity).get(30, TimeUnit.SECONDS);
        TlsHops.client(
                transport,
                loops,
                new ClientTls(TlsSettings.defaults()),
                () -> certs.current(identity).orElseThrow(),
                SpiffeId.parse(a.text("--server-identity")),
                a.address("--listen"),
                a.address("--target"));
        ready("tls-client: " + a.text("--listen") + " -> mTLS " + a.text("--target"));
    }

    /** The node's hop in TLS mode: mutual TLS in, TCP out to the app, see {@link TlsHops}. */
    private static void tlsNode(Args a) throws Exception {
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "bench-tls-node");
        var certs = certificates(a.text("--ca"));
        var identity = SpiffeId.parse(a.text("--identity"));
        certs.certificate(identity).get(30, TimeUnit.SECONDS);
        var tls = ServerTls.forIdentity(certs, identity, TlsSettings.defaults(), null);
        TlsHops.node(transport, loops, tls, a.address("--listen"), a.address("--target"));
        ready("tls-node: mTLS " + a.text("--listen") + " -> " + a.text("--target") + " as " + identity);
    }

    /**
     * A certificate from the bench's CA for a proxy that reads PEM files (HAProxy's {@code crt}: chain, then
     * key, in one file) and the root it must trust ({@code ca-file}).
     */
    private static void pem(Args a) throws Exception {
        var ca = LocalCa.open(Path.of(a.text("--ca")), Clock.systemUTC());
        var cert = ca.issue(SpiffeId.parse(a.text("--identity")), Duration.ofDays(1));
        Pem.write(
                Path.of(a.text("--out")),
                Pem.encodeCertificates(cert.chain()) + Pem.encodePrivateKey(cert.key()),
                true);
        Pem.write(Path.of(a.text("--root-out")), Pem.encodeCertificates(cert.roots()), false);
        System.out.println("wrote " + a.text("--out") + " for " + cert.identity());
    }

    private static void ready(String what) throws InterruptedException {
        System.out.println("ready " + what);
        System.out.flush();
        new CountDownLatch(1).await(); // until killed
    }
}
