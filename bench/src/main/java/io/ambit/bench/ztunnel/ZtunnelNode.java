package io.ambit.bench.ztunnel;

import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.tls.TlsSettings;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.xds.file.LocalFileSource;
import io.ambit.xds.mesh.Workload;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One ztunnel in its own process for the benchmark, for when {@code ambit ztunnel --mesh-file F --node N}
 * is not available: what that command does in local mode, without its admin, xDS and readiness parts. The
 * mesh file, the embedded CA in a shared directory, and the {@link Node} for the workloads of node {@code
 * N}, on the transport and event loops Ambit picks. The access log is ztunnel's text line per connection on
 * stdout (what {@code ambit} writes through logback).
 *
 * <pre>
 *   ZtunnelNode --mesh-file F --node N --ca-dir D [--ports hbone,socks,metrics,readiness,admin,plaintext]
 * </pre>
 *
 * Prints {@code ready node=N workloads=K} once every listener is open; runs until killed.
 */
public final class ZtunnelNode {
    private ZtunnelNode() {}

    public static void main(String[] args) throws Exception {
        Path meshFile = null;
        Path caDir = null;
        String nodeName = null;
        Node.Ports ports = Node.Ports.builder().admin(0).dns(0).build();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mesh-file" -> meshFile = Path.of(args[i + 1]);
                case "--ca-dir" -> caDir = Path.of(args[i + 1]);
                case "--node" -> nodeName = args[i + 1];
                case "--ports" -> ports = ports(args[i + 1]);
                default -> usage("unknown option " + args[i]);
            }
        }
        if (args.length % 2 != 0 || meshFile == null || caDir == null || nodeName == null) {
            usage("--mesh-file, --node and --ca-dir are required");
        }
        var source = LocalFileSource.open(meshFile);
        var timer = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("ambit-cert-timer").unstarted(r));
        var certificates = CertificateManager.builder(
                        LocalCa.open(caDir, Clock.systemUTC()),
                        Scheduler.of(timer),
                        Executors.newVirtualThreadPerTaskExecutor())
                .build();
        Transport transport = Transports.select();
        var loops = transport.newEventLoopGroup(0, "ambit-ztunnel-" + transport);
        var mine = new ArrayList<Workload>();
        for (var w : source.current().workloads()) {
            if (nodeName.equals(w.node())) {
                mine.add(w);
            }
        }
        var out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 64 * 1024);
        AccessLog accessLog = entry -> {
            synchronized (out) {
                try {
                    out.write(entry.format());
                    out.newLine();
                    out.flush(); // as a console appender does
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        var node = Node.start(
                nodeName, mine, ports, source, certificates, TlsSettings.defaults(), transport, loops, accessLog);
        System.out.println("ready node=" + nodeName + " workloads=" + mine.size() + " transport=" + transport);
        System.out.flush();
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close(Duration.ofSeconds(1));
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            source.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    private static Node.Ports ports(String text) {
        String[] p = text.split(",");
        if (p.length != 6) {
            usage("--ports " + text + " (expected six ports: hbone,socks,metrics,readiness,admin,plaintext)");
        }
        int[] n = new int[6];
        for (int i = 0; i < 6; i++) {
            n[i] = Integer.parseInt(p[i].trim());
        }
        try {
            return Node.Ports.ofList(n);
        } catch (IllegalArgumentException e) {
            usage("--ports " + e.getMessage());
            throw e;
        }
    }

    private static void usage(String problem) {
        System.err.println("ZtunnelNode: " + problem
                + " (expected: --mesh-file FILE --node NAME --ca-dir DIR [--ports h,s,m,r,a,p])");
        System.exit(2);
    }
}
