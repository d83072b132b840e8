package io.ambit.cli.hbone;

import io.ambit.cli.process.UntilShutdown;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What both commands need: the identity's certificates from a CA directory (issued, then rotated at
 * half-life by the certificate manager), TLS settings, and a transport with its event loops.
 */
final class Endpoint implements AutoCloseable {
    final SpiffeId identity;
    final CertificateManager certificates;
    final TlsSettings tls;
    final Transport transport;
    final EventLoopGroup loops;
    private final ScheduledExecutorService timer;
    private final ExecutorService issuer;

    private Endpoint(
            SpiffeId identity,
            CertificateManager certificates,
            TlsSettings tls,
            Transport transport,
            EventLoopGroup loops,
            ScheduledExecutorService timer,
            ExecutorService issuer) {
        this.identity = identity;
        this.certificates = certificates;
        this.tls = tls;
        this.transport = transport;
        this.loops = loops;
        this.timer = timer;
        this.issuer = issuer;
    }

    /**
     * @throws IllegalArgumentException naming the bad option and what was expected
     */
    static Endpoint open(Path caDir, String identity, String compliance) throws CertificateSourceException {
        SpiffeId id = SpiffeId.parse(identity);
        CompliancePolicy policy;
        try {
            policy = CompliancePolicy.valueOf(compliance.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--compliance-policy " + compliance + " (expected: default or pqc)");
        }
        var ca = PluggedCa.open(caDir);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ambit-cert-timer"));
        ExecutorService issuer = Executors.newVirtualThreadPerTaskExecutor();
        var manager =
                CertificateManager.builder(ca, Scheduler.of(timer), issuer).build();
        Transport transport = Transports.select();
        EventLoopGroup loops = transport.newEventLoopGroup(0, "ambit-hbone-" + transport);
        return new Endpoint(
                id, manager, TlsSettings.defaults().withCompliancePolicy(policy), transport, loops, timer, issuer);
    }

    /** {@code ip:port} or {@code [v6]:port}, port 0..65535 (0: any free port); never a DNS lookup. */
    static InetSocketAddress address(String text, String option) {
        String expected = " (expected ip:port, e.g. 127.0.0.1:15008 or [::1]:15008)";
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException(option + " " + text + ": no ]:port" + expected);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException(option + " " + text + ": no port" + expected);
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        var ip = io.ambit.policy.match.IpAddress.tryParse(host);
        if (ip.isEmpty()) {
            throw new IllegalArgumentException(
                    option + " " + text + ": \"" + host + "\" is not an IP address" + expected);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException(
                    option + " " + text + ": port \"" + port + "\" is not 0..65535" + expected);
        }
        return new InetSocketAddress(ip.get().toInetAddress(), p);
    }

    /** Something that starts and then runs until closed. */
    @FunctionalInterface
    interface Starter<R extends AutoCloseable> {
        R start() throws Exception;
    }

    /**
     * Starts, prints a banner, and serves until the JVM is asked to stop (SIGTERM, Ctrl-C), then closes.
     * Exit 2 for bad options or certificates, 1 when it cannot start otherwise.
     */
    static <R extends AutoCloseable> int run(
            String command,
            Starter<R> starter,
            java.util.function.Function<R, String> banner,
            java.io.PrintWriter out,
            java.io.PrintWriter err) {
        R running;
        try {
            running = starter.start();
        } catch (IllegalArgumentException | CertificateSourceException e) {
            err.println(command + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println(command + ": cannot start: " + e);
            return 1;
        }
        out.println(banner.apply(running));
        out.flush();
        UntilShutdown.await(
                () -> {
                    try {
                        running.close();
                    } catch (Exception e) {
                        err.println(command + ": while stopping: " + e);
                    }
                },
                null);
        return 0;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        certificates.close();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        timer.shutdownNow();
        issuer.shutdownNow();
    }
}
