package io.ambit.waypoint.testing;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.Scheduler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** An embedded CA in a temporary directory and a certificate manager issuing from it. */
public final class Pki implements AutoCloseable {
    public final Path dir;
    public final LocalCa ca;
    public final CertificateManager certificates;
    private final ScheduledExecutorService timer;
    private final ExecutorService issuer;

    public Pki() throws Exception {
        dir = Files.createTempDirectory("waypoint-ca");
        ca = LocalCa.open(dir, Clock.systemUTC());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "test-cert-timer");
            t.setDaemon(true);
            return t;
        });
        issuer = Executors.newVirtualThreadPerTaskExecutor();
        certificates =
                CertificateManager.builder(ca, Scheduler.of(timer), issuer).build();
    }

    @Override
    public void close() {
        certificates.close();
        timer.shutdownNow();
        issuer.shutdownNow();
    }
}
