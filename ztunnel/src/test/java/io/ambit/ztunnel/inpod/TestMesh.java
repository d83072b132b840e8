package io.ambit.ztunnel.inpod;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.xds.file.LocalFileSource;
import io.ambit.ztunnel.dns.InPodDns;
import io.ambit.ztunnel.telemetry.AccessLog;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * What a ztunnel test needs around the proxies: the embedded CA and a certificate manager, a mesh file
 * whose reloads the test fires by hand (no sleeps), the transport and its event loops, and an access
 * log that records every line.
 */
public final class TestMesh implements AutoCloseable {
    public final Path file;
    public final CertificateManager certificates;
    public final LocalFileSource source;
    public final Transport transport;
    public final EventLoopGroup group;
    public final List<AccessLog.Entry> log = new CopyOnWriteArrayList<>();
    public final AccessLog accessLog = AccessLog.slf4j().and(log::add);
    private final ScheduledExecutorService timer;
    private final ExecutorService issuer;
    private final Trigger trigger = new Trigger();
    private long mtime = 1_000_000;

    /** Fires on the caller's thread, which so becomes the source's control thread. */
    static final class Trigger implements ChangeTrigger {
        volatile Runnable check;

        @Override
        public void start(Runnable check) {
            this.check = check;
        }

        @Override
        public void close() {}
    }

    public TestMesh(Path dir, String yaml) throws Exception {
        this.file = dir.resolve("mesh.yaml");
        write(yaml);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            var t = new Thread(r, "test-cert-timer");
            t.setDaemon(true);
            return t;
        });
        issuer = Executors.newVirtualThreadPerTaskExecutor();
        var ca = LocalCa.open(dir.resolve("ca"), Clock.systemUTC());
        certificates =
                CertificateManager.builder(ca, Scheduler.of(timer), issuer).build();
        source = LocalFileSource.open(file, trigger);
        transport = Transports.select();
        group = transport.newEventLoopGroup(2, "test-" + transport);
    }

    /**
     * In-pod proxies over this mesh with ztunnel's ports and a 1 s drain, as the in-pod tests run them.
     *
     * @param zdsSocket the CNI agent's socket, or null (the test drives the proxies directly)
     * @param dns       each pod's DNS proxy, or null for none
     */
    public InPodProxies.Config inPodConfig(Path zdsSocket, MeterRegistry registry, InPodDns dns) {
        return new InPodProxies.Config(
                zdsSocket,
                source,
                certificates,
                TlsSettings.defaults(),
                transport,
                group,
                accessLog,
                registry,
                InPodProxies.Ports.DEFAULT,
                Duration.ofSeconds(1),
                dns);
    }

    /** Rewrites the mesh file and reloads it now, on this thread. */
    public void update(String yaml) throws IOException {
        write(yaml);
        trigger.check.run();
    }

    private void write(String yaml) throws IOException {
        Files.writeString(file, yaml);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime += 1000));
    }

    /** Polls {@code condition} every 20 ms for up to {@code timeout}. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        source.close();
        certificates.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        timer.shutdownNow();
        issuer.shutdownNow();
    }
}
