package io.ambit.cli.waypoint;

import io.ambit.cli.run.ComplianceOption;
import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.ambit.waypoint.local.LocalWaypoints;
import io.ambit.waypoint.local.WaypointDirectory;
import io.ambit.waypoint.telemetry.AccessLog;
import io.ambit.xds.file.ChangeTrigger;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalFileSource;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ambit waypoint FILE}: the waypoints a local mesh file declares, alone, until interrupted. */
@Command(
        name = "waypoint",
        mixinStandardHelpOptions = true,
        description = {
            "Run the waypoints (L7 proxies) that a local mesh file declares: workloads labelled",
            "gateway.networking.k8s.io/gateway-name, or named by a service's waypoint:. Each accepts HBONE on its",
            "ip:15008 with its own identity and runs, per request, Istio's order over what is attached to its",
            "services and Gateway (targetRefs): CUSTOM ext_authz (providers from mesh: extensionProviders) ->",
            "RequestAuthentication (JWT) -> DENY -> ALLOW -> local rate limit (EnvoyFilter local_ratelimit or",
            "LocalRateLimit documents); then forwards it over HBONE to an endpoint's ip:15008. Metrics on :15020,",
            "readiness on :15021. Edits to FILE apply to the next request."
        })
public final class WaypointCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The mesh file, e.g. examples/waypoint-mesh.yaml.")
    Path file;

    @Option(names = "--namespace", paramLabel = "NS", description = "Only the waypoints of this namespace.")
    String namespace;

    @Option(names = "--name", paramLabel = "GATEWAY", description = "Only the waypoint of this Gateway name.")
    String name;

    @Option(
            names = "--ca-dir",
            defaultValue = ".ambit/ca",
            paramLabel = "DIR",
            description = "The embedded CA's state directory, as for `ambit run` (created when missing)."
                    + " Default: ${DEFAULT-VALUE}.")
    Path caDir;

    @Option(
            names = "--ca",
            paramLabel = "DIR",
            description = "A plugged-in CA directory (root-cert.pem, cert-chain.pem, ca-cert.pem, ca-key.pem),"
                    + " e.g. from `ambit ca init`; replaces --ca-dir.")
    Path pluggedCa;

    @Option(
            names = "--zipkin",
            paramLabel = "URL",
            description = "Export spans to this Zipkin endpoint, e.g. http://127.0.0.1:9411/api/v2/spans.")
    URI zipkin;

    @Option(
            names = "--sampling",
            defaultValue = "1.0",
            paramLabel = "PERCENT",
            description = "Share of new traces recorded, 0-100 (Istio's sampling). Default: ${DEFAULT-VALUE}.")
    double sampling;

    @Option(
            names = "--hbone-port",
            defaultValue = "15008",
            paramLabel = "PORT",
            description = "Default: ${DEFAULT-VALUE}.")
    int hbonePort;

    @Option(
            names = "--metrics-port",
            defaultValue = "15020",
            paramLabel = "PORT",
            description = "Default: ${DEFAULT-VALUE}.")
    int metricsPort;

    @Option(
            names = "--readiness-port",
            defaultValue = "15021",
            paramLabel = "PORT",
            description = "Default: ${DEFAULT-VALUE}.")
    int readinessPort;

    @Option(
            names = ComplianceOption.OPTION,
            paramLabel = "default|pqc",
            description = {
                "TLS key exchange of the listener, the upstream pool and the ext_authz tunnels. pqc:",
                "X25519MLKEM768 only, TLS 1.3 only; peers without ML-KEM cannot connect. Default: the",
                "COMPLIANCE_POLICY environment variable, else default (X25519MLKEM768, then X25519)."
            })
    String compliancePolicy;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Everything started, closed in reverse. */
    record Running(LocalWaypoints waypoints, List<AutoCloseable> opened) implements AutoCloseable {
        @Override
        public void close() {
            waypoints.close(Duration.ofSeconds(5));
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception e) {
                    // keep closing
                }
            }
        }
    }

    Running start() throws Exception {
        check();
        var tls = ComplianceOption.tls(compliancePolicy, System.getenv());
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            var source = LocalFileSource.open(file, ChangeTrigger.polling(Duration.ofSeconds(1)));
            opened.add(source);
            var declared = WaypointDirectory.find(source.current()).stream()
                    .filter(d -> namespace == null || d.self().namespace().equals(namespace))
                    .filter(d -> name == null || d.self().gatewayName().equals(name))
                    .toList();
            if (declared.isEmpty()) {
                throw new IllegalArgumentException(file + " declares no waypoint"
                        + (namespace != null ? " in namespace " + namespace : "")
                        + (name != null ? " named " + name : "")
                        + " (expected a workload labelled " + WaypointDirectory.GATEWAY_NAME_LABEL
                        + ", or one that a service's waypoint: names)");
            }
            CertificateSource ca =
                    pluggedCa != null ? PluggedCa.open(pluggedCa) : LocalCa.open(caDir, Clock.systemUTC());
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ambit-cert-timer");
                t.setDaemon(true);
                return t;
            });
            opened.add(timer::shutdownNow);
            ExecutorService issuer = Executors.newVirtualThreadPerTaskExecutor();
            opened.add(issuer::shutdownNow);
            var certificates =
                    CertificateManager.builder(ca, Scheduler.of(timer), issuer).build();
            opened.add(certificates);
            Transport transport = Transports.select();
            EventLoopGroup loops = transport.newEventLoopGroup(0, "ambit-waypoint-" + transport);
            opened.add(() -> loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());
            var options = new LocalWaypoints.Options(
                            d -> declared.contains(d),
                            new LocalWaypoints.Ports(hbonePort, metricsPort, readinessPort),
                            c -> c)
                    .withTracing(sampling, zipkin)
                    .withTls(tls);
            var waypoints = LocalWaypoints.start(source, certificates, transport, loops, AccessLog.slf4j(), options);
            return new Running(waypoints, opened);
        } catch (Exception e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception ignored) {
                    // keep closing
                }
            }
            throw e;
        }
    }

    private void check() {
        if (!(sampling >= 0 && sampling <= 100)) {
            throw new IllegalArgumentException("--sampling " + sampling + " (expected: 0 to 100)");
        }
        if (zipkin != null && !"http".equals(zipkin.getScheme()) && !"https".equals(zipkin.getScheme())) {
            throw new IllegalArgumentException(
                    "--zipkin " + zipkin + " (expected an http:// URL, e.g." + " http://127.0.0.1:9411/api/v2/spans)");
        }
        for (int p : new int[] {hbonePort, metricsPort, readinessPort}) {
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " (expected: 0-65535)");
            }
        }
    }

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        Running running;
        try {
            running = start();
        } catch (InvalidMeshFileException | CertificateSourceException | IllegalArgumentException e) {
            err.println("ambit waypoint: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("ambit waypoint: cannot start: " + e);
            return 1;
        }
        out.print(running.waypoints().banner());
        out.println("Each request is logged (logger \"access\", one JSON line) with the policy that decided it.");
        out.flush();
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
