package io.ambit.bench.hbone;

import io.ambit.hbone.pool.HbonePool;
import io.ambit.hbone.pool.HboneStream;
import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.pool.PoolKey;
import io.ambit.hbone.pool.SourceCertificates;
import io.ambit.hbone.pool.TunnelRequest;
import io.ambit.hbone.server.Authority;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * New HBONE tunnels per second when nothing can be reused: each operation dials a new connection (TCP,
 * mutual TLS 1.3 with ECDSA P-256 certificates, HTTP/2 SETTINGS both ways), opens one CONNECT stream, waits
 * for the {@code 200}, and closes the connection. Client and server run in this JVM, one event loop each.
 *
 * <ul>
 *   <li>{@code dialer}: the key-exchange group pinned by {@code group} ({@link HboneDialer} offers only
 *       that one), against Ambit's {@code HboneServer}.
 *   <li>{@code hbonePool}: Ambit's own client, a fresh {@code HbonePool} per operation with the default
 *       policy (so X25519MLKEM768), against the same server: checks that the dialer costs what the real
 *       client costs.
 * </ul>
 *
 * Each trial checks, once, that the handshake negotiated the expected group and prints it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class HandshakeBench {
    private static final Authority TARGET = Authority.of(new InetSocketAddress("127.0.0.1", 8080));

    /** The HBONE server, shared by both benchmarks of a trial. */
    @State(Scope.Benchmark)
    public static class Server {
        BenchServer server;

        @Setup(Level.Trial)
        public void start() throws Exception {
            server = new BenchServer();
        }

        @TearDown(Level.Trial)
        public void stop() {
            server.close();
        }
    }

    /** A dialer offering only {@link #group}. */
    @State(Scope.Thread)
    public static class Dialer {
        @Param({"X25519MLKEM768", "X25519"})
        public String group;

        HboneDialer dialer;
        InetSocketAddress address;

        @Setup(Level.Trial)
        public void start(Server s) throws Exception {
            dialer = new HboneDialer(
                    s.server.pki.client(), BenchPki.SERVER, group, s.server.transport, s.server.clientLoop);
            address = s.server.address();
            HboneDialer.Tunnel first = dialer.open(address, TARGET).get(10, TimeUnit.SECONDS);
            first.closeAbruptly().sync();
            if (!group.equals(first.namedGroup())) {
                throw new IllegalStateException("negotiated " + first.namedGroup() + " (expected " + group + ")");
            }
            System.out.println("dialer: negotiated group " + first.namedGroup() + " over " + s.server.transport);
        }

        @TearDown(Level.Trial)
        public void stop() {
            dialer.close();
        }
    }

    /** Ambit's client TLS and what a new pool needs. */
    @State(Scope.Thread)
    public static class Pool {
        ClientTls tls;
        SourceCertificates certificates;
        PoolKey key;
        Server server;

        @Setup(Level.Trial)
        public void start(Server s) throws Exception {
            server = s;
            tls = new ClientTls(TlsSettings.defaults());
            certificates = SourceCertificates.of(s.server.pki::client);
            key = new PoolKey(BenchPki.CLIENT, Set.of(BenchPki.SERVER), null, s.server.address());
            HboneStream first = open();
            System.out.println("hbonePool: negotiated " + first.peer() + " over " + s.server.transport);
            if (!"X25519MLKEM768".equals(first.peer().namedGroup())) {
                throw new IllegalStateException(
                        "negotiated " + first.peer().namedGroup() + " (expected X25519MLKEM768)");
            }
        }

        /** A new pool, one tunnel through it, the pool closed (its connection with it). */
        HboneStream open() throws Exception {
            HbonePool pool = new HbonePool(
                    PoolConfig.defaults(), tls, certificates, server.server.transport, server.server.clientLoop);
            try {
                return pool.connect(key, TunnelRequest.to(TARGET)).get(10, TimeUnit.SECONDS);
            } finally {
                pool.closeAsync().get(10, TimeUnit.SECONDS);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            tls.close();
        }
    }

    @Benchmark
    public Object dialer(Dialer d) throws Exception {
        HboneDialer.Tunnel tunnel = d.dialer.open(d.address, TARGET).get(10, TimeUnit.SECONDS);
        tunnel.closeAbruptly().sync();
        return tunnel;
    }

    @Benchmark
    public Object hbonePool(Pool p) throws Exception {
        return p.open();
    }
}
