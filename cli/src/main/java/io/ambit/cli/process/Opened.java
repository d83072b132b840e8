package io.ambit.cli.process;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.transport.Transport;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a long-running command opened (event loops, certificate threads, mesh sources, endpoints), closed in
 * reverse order so that nothing is closed before what still uses it. The ztunnel, the cluster waypoint and
 * {@code ambit waypoint FILE} open their event loops and certificates the same way: here, once.
 */
public final class Opened implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Opened.class);

    private final List<AutoCloseable> items = new ArrayList<>();

    /** Closes {@code item} with the rest, before everything added earlier; returns it. */
    public synchronized <T extends AutoCloseable> T add(T item) {
        items.add(item);
        return item;
    }

    /** An event loop group of {@code transport}, threads named {@code name-transport}; shut down on close. */
    public EventLoopGroup loops(Transport transport, String name) {
        var group = transport.newEventLoopGroup(0, name + "-" + transport);
        add(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());
        return group;
    }

    /**
     * Certificates from {@code ca}, renewed on one daemon timer thread ({@code ambit-cert-timer}) and issued
     * on virtual threads; the manager and both executors are closed with the rest.
     *
     * @param options what differs between commands (TTL, meter registry); {@code b -> b} for none
     */
    public CertificateManager certificates(CertificateSource ca, UnaryOperator<CertificateManager.Builder> options) {
        var timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ambit-cert-timer");
            t.setDaemon(true);
            return t;
        });
        add(timer::shutdownNow);
        var issuer = Executors.newVirtualThreadPerTaskExecutor();
        add(issuer::shutdownNow);
        return add(options.apply(CertificateManager.builder(ca, Scheduler.of(timer), issuer))
                .build());
    }

    /** Closes everything, last opened first; a failure is logged and the rest still closed. */
    @Override
    public synchronized void close() {
        for (int i = items.size() - 1; i >= 0; i--) {
            try {
                items.get(i).close();
            } catch (Exception e) {
                log.debug("closing", e);
            }
        }
        items.clear();
    }
}
