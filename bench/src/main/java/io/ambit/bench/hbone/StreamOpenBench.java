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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * HBONE streams opened per second on a warm pooled connection: each operation checks a stream slot out of
 * Ambit's {@code HbonePool}, sends CONNECT, waits for the {@code 200}, then ends the stream with
 * END_STREAM both ways (no reset: resets count against the server's rapid-reset limit) and waits until it
 * has closed. One connection serves the whole trial; the teardown fails the run if the pool had to dial
 * again.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class StreamOpenBench {
    private static final TunnelRequest REQUEST =
            TunnelRequest.to(Authority.of(new InetSocketAddress("127.0.0.1", 8080)));

    private BenchServer server;
    private ClientTls tls;
    private HbonePool pool;
    private PoolKey key;

    @Setup(Level.Trial)
    public void start() throws Exception {
        server = new BenchServer();
        tls = new ClientTls(TlsSettings.defaults());
        pool = new HbonePool(
                PoolConfig.defaults(),
                tls,
                SourceCertificates.of(server.pki::client),
                server.transport,
                server.clientLoop);
        key = new PoolKey(BenchPki.CLIENT, Set.of(BenchPki.SERVER), null, server.address());
        HboneStream first = pool.connect(key, REQUEST).get(10, TimeUnit.SECONDS);
        System.out.println("streams over " + first.peer() + " on " + server.transport);
        Streams.endCleanly(first.channel()).sync();
    }

    @Benchmark
    public Object openStream() throws Exception {
        HboneStream stream = pool.connect(key, REQUEST).get(10, TimeUnit.SECONDS);
        Streams.endCleanly(stream.channel()).sync();
        return stream;
    }

    @TearDown(Level.Trial)
    public void stop() {
        long dials = pool.stats().dials();
        pool.close();
        tls.close();
        server.close();
        if (dials != 1) {
            throw new IllegalStateException("the pool dialed " + dials + " connections (expected 1: streams only)");
        }
    }
}
