package io.ambit.bench.xds;

import io.ambit.controlplane.ServingCertificate;
import io.ambit.hbone.ca.LocalCa;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.client.NodeInfo;
import io.ambit.xds.client.XdsMeshSource;
import io.ambit.xds.client.XdsSettings;
import io.ambit.xds.convert.AddressConverter;
import io.ambit.xds.convert.AuthorizationConverter;
import io.ambit.xds.mesh.MeshSource;
import io.ambit.xds.mesh.MeshState;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContextBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The xDS client at mesh scale, against a real gRPC server over TLS on loopback, in one JVM:
 *
 * <ol>
 *   <li><b>connect → ready</b>: from starting an {@link XdsMeshSource} to the first ACK of both types with
 *       W workloads (and W/100 services) and P Authorizations, and the heap the client holds then (heap in
 *       use after full collections, before and after; the server's resources are built before the first
 *       measurement);
 *   <li><b>push → visible</b>: the server sends one changed workload (or one changed Authorization); the
 *       time until a {@link MeshSource.Listener} sees the new {@link MeshState} — decoding, conversion,
 *       rebuilding the W-workload state (and recompiling P policies) included. Closed loop: one update at a
 *       time; p50/p90/p99;
 *   <li><b>CPU per 1,000 updates</b>: CPU time of the client's control thread ({@code ambit-xds}, which
 *       decodes, converts and builds states) over the workload updates, scaled to 1,000; the whole process's
 *       CPU (client, server and TLS, an upper bound) is printed next to it.
 * </ol>
 *
 * <pre>java -XX:+UseSerialGC -Xms2g -Xmx2g -cp bench/target/ambit-bench.jar io.ambit.bench.xds.XdsBench 10000 1000 1000</pre>
 */
public final class XdsBench {
    private XdsBench() {}

    public static void main(String[] args) throws Exception {
        int workloads = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int policies = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int updates = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        String ip = args.length > 3 ? args[3] : "127.91.250.1";

        Path dir = Files.createTempDirectory("ambit-xds-bench");
        var ca = LocalCa.open(dir.resolve("ca"), Clock.systemUTC());
        var serving = ServingCertificate.issue(
                ca.signingCa(),
                List.of("localhost"),
                List.of(InetAddress.getByName(ip)),
                Clock.systemUTC().instant(),
                Duration.ofDays(1));
        var tls = GrpcSslContexts.configure(SslContextBuilder.forServer(
                        serving.key(), serving.chain().toArray(X509Certificate[]::new)))
                .build();
        var mesh = new BenchMesh(workloads, policies);
        try (var server = new BenchAdsServer(
                new InetSocketAddress(InetAddress.getByName(ip), 0),
                tls,
                Map.of(
                        AddressConverter.TYPE_URL,
                        mesh.addresses,
                        AuthorizationConverter.TYPE_URL,
                        mesh.authorizations))) {
            System.out.printf(
                    Locale.ROOT,
                    "mesh: %d workloads, %d services, %d authorizations (%d bytes of resources)%n",
                    workloads,
                    mesh.addresses.size() - workloads,
                    mesh.authorizations.size(),
                    mesh.addresses.stream()
                                    .mapToLong(r -> r.getSerializedSize())
                                    .sum()
                            + mesh.authorizations.stream()
                                    .mapToLong(r -> r.getSerializedSize())
                                    .sum());
            var settings = XdsSettings.of(
                    URI.create("https://" + ip + ":" + server.port()),
                    dir.resolve("ca").resolve(LocalCa.ROOT_CERT),
                    null,
                    "c1");
            var node = NodeInfo.ztunnel("127.91.250.2", "ztunnel-bench", "istio-system", "node-0", "c1", Map.of());

            // 1. connect -> ready, and heap
            long heapBefore = usedHeapAfterGc();
            long t0 = System.nanoTime();
            var source = XdsMeshSource.start(settings, node, MeshConfig.DEFAULT, null);
            source.ready().get(120, TimeUnit.SECONDS);
            long readyNanos = System.nanoTime() - t0;
            var state = source.current();
            if (state.workloads().size() != workloads || server.nacks.get() > 0) {
                throw new IllegalStateException("unexpected state " + state + ", NACKs " + server.nacks.get());
            }
            long heapAfter = usedHeapAfterGc();
            System.out.printf(
                    Locale.ROOT,
                    "connect_to_ready_ms=%.1f heap_held_mb=%.1f (%s)%n",
                    readyNanos / 1e6,
                    (heapAfter - heapBefore) / 1048576.0,
                    state);

            // 2. push -> visible, workloads; 3. CPU per 1,000
            var seen = new LinkedBlockingQueue<Seen>();
            source.addListener(new MeshSource.Listener() {
                @Override
                public void updated(MeshState s) {
                    seen.add(new Seen(System.nanoTime(), s)); // never blocks the xDS thread
                }
            });
            int warmup = Math.min(200, updates);
            for (int i = 0; i < warmup; i++) {
                pushWorkload(server, mesh, i, 100 + i, seen);
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long xdsThread = findThread("ambit-xds");
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = threads.getThreadCpuTime(xdsThread);
            long proc0 = os.getProcessCpuTime();
            long[] samples = new long[updates];
            for (int i = 0; i < updates; i++) {
                samples[i] = pushWorkload(server, mesh, i % workloads, 1_000 + i, seen);
            }
            long cpu = threads.getThreadCpuTime(xdsThread) - cpu0;
            long proc = os.getProcessCpuTime() - proc0;
            System.out.println("workload_push_to_visible " + summary(samples, updates));
            System.out.printf(
                    Locale.ROOT,
                    "cpu_per_1000_workload_updates_ms: control_thread=%.1f whole_process=%.1f%n",
                    cpu / 1e6 * 1000 / updates,
                    proc / 1e6 * 1000 / updates);

            // 3b. a burst: the same number of single-workload responses sent back to back, as istiod sends a
            // rollout; the client applies them as they come and publishes once per drained batch
            long bcpu0 = threads.getThreadCpuTime(xdsThread);
            long bproc0 = os.getProcessCpuTime();
            long b0 = System.nanoTime();
            for (int i = 0; i < updates; i++) {
                server.push(AddressConverter.TYPE_URL, List.of(mesh.workload(i % workloads, 5_000 + i)));
            }
            String lastUid =
                    "Kubernetes//Pod/" + BenchMesh.ns((updates - 1) % workloads) + "/w" + ((updates - 1) % workloads);
            int published = 0;
            while (true) {
                var next = seen.poll(60, TimeUnit.SECONDS);
                if (next == null) {
                    throw new IllegalStateException("the burst was not visible within 60 s");
                }
                published++;
                var w = next.state().workloadByUid(lastUid);
                if (w.isPresent() && w.get().capacity() == 5_000 + updates - 1) {
                    break;
                }
            }
            long burstNanos = System.nanoTime() - b0;
            System.out.printf(
                    Locale.ROOT,
                    "burst_of_%d_workload_updates: all_visible_ms=%.1f states_published=%d control_thread_cpu_ms=%.1f"
                            + " whole_process_cpu_ms=%.1f%n",
                    updates,
                    burstNanos / 1e6,
                    published,
                    (threads.getThreadCpuTime(xdsThread) - bcpu0) / 1e6,
                    (os.getProcessCpuTime() - bproc0) / 1e6);
            seen.clear();

            // 2b. push -> visible, one Authorization (P policies compiled again)
            int policyUpdates = Math.min(200, updates);
            long[] psamples = new long[policyUpdates];
            for (int i = 0; i < 20; i++) {
                pushPolicy(server, mesh, i, 2 + i, seen);
            }
            long pcpu0 = threads.getThreadCpuTime(xdsThread);
            for (int i = 0; i < policyUpdates; i++) {
                psamples[i] = pushPolicy(server, mesh, i % (policies - 1), 100 + i, seen);
            }
            long pcpu = threads.getThreadCpuTime(xdsThread) - pcpu0;
            System.out.println("policy_push_to_visible " + summary(psamples, policyUpdates));
            System.out.printf(
                    Locale.ROOT, "cpu_per_policy_update_ms: control_thread=%.2f%n", pcpu / 1e6 / policyUpdates);
            if (server.nacks.get() > 0) {
                throw new IllegalStateException(server.nacks.get() + " NACKs");
            }
            source.close();
        }
    }

    private static long pushWorkload(
            BenchAdsServer server, BenchMesh mesh, int index, int capacity, LinkedBlockingQueue<Seen> seen)
            throws Exception {
        var r = mesh.workload(index, capacity);
        long t = System.nanoTime();
        server.push(AddressConverter.TYPE_URL, List.of(r));
        return wait(seen, t);
    }

    private static long pushPolicy(
            BenchAdsServer server, BenchMesh mesh, int index, int generation, LinkedBlockingQueue<Seen> seen)
            throws Exception {
        var r = mesh.authorization(index, generation);
        long t = System.nanoTime();
        server.push(AuthorizationConverter.TYPE_URL, List.of(r));
        return wait(seen, t);
    }

    /** A state seen by the listener, and when. */
    private record Seen(long at, MeshState state) {}

    private static long wait(LinkedBlockingQueue<Seen> seen, long start) throws InterruptedException {
        var s = seen.poll(30, TimeUnit.SECONDS);
        if (s == null) {
            throw new IllegalStateException("an update was not visible within 30 s");
        }
        return s.at() - start;
    }

    private static long findThread(String name) {
        for (var t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                return t.threadId();
            }
        }
        throw new IllegalStateException("no thread " + name);
    }

    private static String summary(long[] nanos, int n) {
        long[] s = Arrays.copyOf(nanos, n);
        Arrays.sort(s);
        return String.format(
                Locale.ROOT,
                "n=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f",
                n,
                rank(s, 0.50),
                rank(s, 0.90),
                rank(s, 0.99),
                s[n - 1] / 1e6);
    }

    private static double rank(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    /** Heap in use after full collections, repeated until it stops shrinking. */
    private static long usedHeapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            if (used >= last) {
                return used;
            }
            last = used;
        }
        return last;
    }
}
