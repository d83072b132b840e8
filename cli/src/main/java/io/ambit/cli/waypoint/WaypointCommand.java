package io.ambit.cli.waypoint;

import io.ambit.cli.process.Opened;
import io.ambit.cli.process.UntilShutdown;
import io.ambit.cli.run.ComplianceOption;
import io.ambit.hbone.ca.LocalCa;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
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
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ambit waypoint [FILE]}: the waypoints a local mesh file declares, alone, until interrupted; or, without
 * FILE (or with {@code --xds-address}), one waypoint in a cluster, configured from istiod and the Kubernetes API
 * ({@link ClusterWaypoint}).
 */
@Command(
        name = "waypoint",
        mixinStandardHelpOptions = true,
        description = {
            "In a cluster (no FILE, or --xds-address/XDS_ADDRESS set): run this pod's waypoint as Istio's does,",
            "configured from the pod's environment (GATEWAY_NAME, POD_NAMESPACE, SERVICE_ACCOUNT, INSTANCE_IP),",
            "istiod (XDS_ADDRESS, CA_ADDRESS, CLUSTER_ID, AUTH_TOKEN, XDS_ROOT_CA: workloads, services and its own",
            "certificate) and the Kubernetes API (AuthorizationPolicy, RequestAuthentication, EnvoyFilter,",
            "LocalRateLimit, and extensionProviders from the istio ConfigMap, listed and watched). Ready on :15021",
            "once istiod and Kubernetes have synced and the certificate is in; nothing is served before. An object",
            "it cannot read is refused by name and field (log, ambit_kube_objects_rejected_total); a refused",
            "AuthorizationPolicy fails closed on its targets (DENY/CUSTOM: deny all; ALLOW: allows nothing).",
            "",
            "With FILE: run the waypoints (L7 proxies) that a local mesh file declares: workloads labelled",
            "gateway.networking.k8s.io/gateway-name, or named by a service's waypoint:. Each accepts HBONE on its",
            "ip:15008 with its own identity and runs, per request, Istio's order over what is attached to its",
            "services and Gateway (targetRefs): CUSTOM ext_authz (providers from mesh: extensionProviders) ->",
            "RequestAuthentication (JWT) -> DENY -> ALLOW -> local rate limit (EnvoyFilter local_ratelimit or",
            "LocalRateLimit documents); then forwards it over HBONE to an endpoint's ip:15008. Metrics on :15020,",
            "readiness on :15021. Edits to FILE apply to the next request."
        })
public final class WaypointCommand implements Callable<Integer> {
    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "FILE",
            description = "The mesh file, e.g. examples/waypoint-mesh.yaml. Without it: cluster mode.")
    Path file;

    @Option(
            names = "--xds-address",
            paramLabel = "URL",
            description = "Cluster mode: istiod's xDS address. Default: XDS_ADDRESS, else "
                    + ClusterSettings.DEFAULT_ISTIOD + ".")
    String xdsAddress;

    @Option(
            names = "--ca-address",
            paramLabel = "URL",
            description = "Cluster mode: istiod's CA. Default: CA_ADDRESS, else the xDS address.")
    String caAddress;

    @Option(
            names = "--root-cert",
            paramLabel = "PEM",
            description = "Cluster mode: istiod's root certificate. Default: XDS_ROOT_CA, else "
                    + ClusterSettings.DEFAULT_ROOT_CERT + ".")
    Path rootCert;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "Cluster mode: the istio-ca token. Default: AUTH_TOKEN, else " + ClusterSettings.DEFAULT_TOKEN
                    + " when it exists.")
    Path tokenFile;

    @Option(
            names = "--cluster-id",
            paramLabel = "ID",
            description = "Cluster mode. Default: CLUSTER_ID, else Kubernetes.")
    String clusterId;

    @Option(
            names = "--gateway",
            paramLabel = "NAME",
            description = "Cluster mode: the Gateway this pod runs. Default: GATEWAY_NAME.")
    String gateway;

    @Option(names = "--pod-name", paramLabel = "NAME", description = "Cluster mode. Default: POD_NAME.")
    String podName;

    @Option(
            names = "--instance-ip",
            paramLabel = "IP",
            description = "Cluster mode: the pod IP, where the listeners go. Default: INSTANCE_IP, else every address.")
    String instanceIp;

    @Option(names = "--service-account", paramLabel = "SA", description = "Cluster mode. Default: SERVICE_ACCOUNT.")
    String serviceAccount;

    @Option(
            names = "--trust-domain",
            paramLabel = "TD",
            description = "Cluster mode. Default: TRUST_DOMAIN, else cluster.local.")
    String trustDomain;

    @Option(
            names = "--kube-api",
            paramLabel = "URL",
            description = "Cluster mode: the Kubernetes API server. Default: https://$KUBERNETES_SERVICE_HOST:"
                    + "$KUBERNETES_SERVICE_PORT.")
    URI kubeApi;

    @Option(
            names = "--kube-service-account",
            paramLabel = "DIR",
            description = "Cluster mode: the directory with the API token and ca.crt. Default:"
                    + " /var/run/secrets/kubernetes.io/serviceaccount.")
    Path kubeServiceAccount;

    @Option(
            names = "--namespace",
            paramLabel = "NS",
            description = "With FILE: only the waypoints of this namespace. Cluster mode: the Gateway's namespace"
                    + " (default: POD_NAMESPACE).")
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
    record Running(LocalWaypoints waypoints, Opened opened) implements AutoCloseable {
        @Override
        public void close() {
            waypoints.close(Duration.ofSeconds(5));
            opened.close();
        }
    }

    /** Whether this runs against istiod and the Kubernetes API rather than a file. */
    boolean clusterMode() {
        return file == null || xdsAddress != null;
    }

    ClusterSettings clusterSettings(java.util.Map<String, String> env) {
        if (file != null) {
            throw new IllegalArgumentException(
                    "FILE and --xds-address both given (expected: one source of workloads and policies)");
        }
        return ClusterSettings.resolve(
                new ClusterSettings.Flags(
                        xdsAddress,
                        caAddress,
                        rootCert,
                        tokenFile,
                        clusterId,
                        gateway != null ? gateway : name,
                        podName,
                        namespace,
                        serviceAccount,
                        instanceIp,
                        trustDomain,
                        kubeApi,
                        kubeServiceAccount),
                env);
    }

    /** Cluster mode: starts the waypoint against istiod and the Kubernetes API. */
    ClusterWaypoint startCluster(java.util.Map<String, String> env) throws Exception {
        check();
        var tls = ComplianceOption.tls(compliancePolicy, env);
        var settings = clusterSettings(env);
        return ClusterWaypoint.start(
                settings,
                new ClusterWaypoint.Ports(hbonePort, metricsPort, readinessPort),
                c -> c.withTracing(sampling, zipkin).withTls(tls),
                AccessLog.slf4j(),
                io.ambit.xds.kube.WatchLimits.DEFAULT);
    }

    Running start() throws Exception {
        check();
        var tls = ComplianceOption.tls(compliancePolicy, System.getenv());
        var opened = new Opened();
        try {
            var source = opened.add(LocalFileSource.open(file, ChangeTrigger.polling(Duration.ofSeconds(1))));
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
            var certificates = opened.certificates(ca, b -> b);
            Transport transport = Transports.select();
            EventLoopGroup loops = opened.loops(transport, "ambit-waypoint");
            var options = new LocalWaypoints.Options(
                            d -> declared.contains(d),
                            new LocalWaypoints.Ports(hbonePort, metricsPort, readinessPort),
                            c -> c)
                    .withTracing(sampling, zipkin)
                    .withTls(tls);
            var waypoints = LocalWaypoints.start(source, certificates, transport, loops, AccessLog.slf4j(), options);
            return new Running(waypoints, opened);
        } catch (Exception e) {
            opened.close();
            throw e;
        }
    }

    private void check() {
        if (!(sampling >= 0 && sampling <= 100)) {
            throw new IllegalArgumentException("--sampling " + sampling + " (expected: 0 to 100)");
        }
        if (zipkin != null && !"http".equals(zipkin.getScheme()) && !"https".equals(zipkin.getScheme())) {
            throw new IllegalArgumentException(
                    "--zipkin " + zipkin + " (expected an http:// URL, e.g. http://127.0.0.1:9411/api/v2/spans)");
        }
        for (int p : new int[] {hbonePort, metricsPort, readinessPort}) {
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port " + p + " (expected: 0-65535)");
            }
        }
    }

    @Override
    public Integer call() {
        if (clusterMode()) {
            // IllegalArgumentException only: the cluster's certificates and mesh come later, from istiod
            return serve(
                    () -> startCluster(System.getenv()),
                    ClusterWaypoint::banner,
                    w -> w.close(Duration.ofSeconds(5)),
                    e -> e instanceof IllegalArgumentException);
        }
        return serve(
                this::start,
                running -> running.waypoints().banner(),
                Running::close,
                e -> e instanceof InvalidMeshFileException
                        || e instanceof CertificateSourceException
                        || e instanceof IllegalArgumentException);
    }

    /**
     * Starts, prints the banner, and serves until the JVM shuts down. Exit 2 when {@code usage} says the
     * failure is the user's (options, file, CA), 1 when it cannot start otherwise.
     */
    private <T> Integer serve(
            Callable<T> start, Function<T, String> banner, Consumer<T> stop, Predicate<Exception> usage) {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        T running;
        try {
            running = start.call();
        } catch (Exception e) {
            if (usage.test(e)) {
                err.println("ambit waypoint: " + e.getMessage());
                return 2;
            }
            err.println("ambit waypoint: cannot start: " + e);
            return 1;
        }
        out.print(banner.apply(running));
        out.println("Each request is logged (logger \"access\", one JSON line) with the policy that decided it.");
        out.flush();
        UntilShutdown.await(() -> stop.accept(running), null);
        return 0;
    }
}
