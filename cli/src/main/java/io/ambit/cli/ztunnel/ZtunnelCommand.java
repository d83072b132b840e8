package io.ambit.cli.ztunnel;

import io.ambit.cli.logging.LogbackLevels;
import io.ambit.cli.process.UntilShutdown;
import io.ambit.cli.run.ComplianceOption;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.ztunnel.lifecycle.DrainDeadline;
import io.ambit.ztunnel.node.Node;
import io.ambit.ztunnel.telemetry.AccessLog;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ambit ztunnel}: the node proxy alone, configured like Istio's ztunnel — from istiod (xDS and CA
 * over TLS with a service-account token) or from a local mesh file.
 */
@Command(
        name = "ztunnel",
        mixinStandardHelpOptions = true,
        description = {
            "Run the node proxy for one node: workloads, services and policies from istiod over Delta ADS",
            "(or from a local mesh file), certificates from istiod's CA (or the embedded one). Every option",
            "falls back to ztunnel's environment variable (in brackets), then to ztunnel's default.",
            "Metrics on <instance ip>:15020, readiness on <instance ip>:15021 (ready after the first ACK of",
            "workloads and policies and the node's certificates), admin on 127.0.0.1:15000.",
            "Examples:",
            "  ambit ztunnel --xds-address https://istiod.istio-system.svc:15012 --node $NODE_NAME",
            "  ambit ztunnel --xds-address https://127.0.0.1:15012 --root-cert .ambit/ca/root-cert.pem --node node-a",
            "  ambit ztunnel --mesh-file examples/quickstart-mesh.yaml --node node-a"
        })
public final class ZtunnelCommand implements Callable<Integer> {
    @Option(
            names = "--xds-address",
            paramLabel = "URL",
            description = "istiod's xDS [XDS_ADDRESS]; default https://istiod.istio-system.svc:15012.")
    String xdsAddress;

    @Option(
            names = "--ca-address",
            paramLabel = "URL",
            description = "istiod's CA [CA_ADDRESS]; default: the xDS address.")
    String caAddress;

    @Option(
            names = "--root-cert",
            paramLabel = "FILE",
            description =
                    "Roots trusted for both, or SYSTEM [XDS_ROOT_CA, CA_ROOT_CA]; default ./var/run/secrets/istio/root-cert.pem.")
    Path rootCert;

    @Option(names = "--xds-root-cert", paramLabel = "FILE", description = "Roots trusted for xDS only [XDS_ROOT_CA].")
    Path xdsRootCert;

    @Option(names = "--ca-root-cert", paramLabel = "FILE", description = "Roots trusted for the CA only [CA_ROOT_CA].")
    Path caRootCert;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description =
                    "Service-account token, audience istio-ca, re-read when it changes [AUTH_TOKEN]; default ./var/run/secrets/tokens/istio-token when present.")
    Path tokenFile;

    @Option(
            names = "--cluster-id",
            paramLabel = "ID",
            description = "Sent as the clusterid header [ISTIO_META_CLUSTER_ID, CLUSTER_ID]; default Kubernetes.")
    String clusterId;

    @Option(
            names = "--node",
            paramLabel = "NAME",
            description = "The node whose workloads this proxy serves [NODE_NAME]. Required.")
    String node;

    @Option(names = "--pod-name", paramLabel = "NAME", description = "This ztunnel's pod [POD_NAME]; default ztunnel.")
    String podName;

    @Option(
            names = "--pod-namespace",
            paramLabel = "NS",
            description = "Its namespace [POD_NAMESPACE]; default istio-system.")
    String podNamespace;

    @Option(
            names = "--instance-ip",
            paramLabel = "IP",
            description =
                    "Its IP, in the node id; metrics and readiness listen there [INSTANCE_IP]; default 127.0.0.1.")
    String instanceIp;

    @Option(
            names = "--service-account",
            paramLabel = "SA",
            description =
                    "Its service account: its own identity, asked for without impersonation [SERVICE_ACCOUNT]; default ztunnel.")
    String serviceAccount;

    @Option(
            names = "--trust-domain",
            paramLabel = "TD",
            description = "The mesh trust domain [TRUST_DOMAIN]; default cluster.local.")
    String trustDomain;

    @Option(
            names = "--root-namespace",
            paramLabel = "NS",
            description = "The mesh root namespace [ROOT_NAMESPACE]; default istio-system.")
    String rootNamespace;

    @Option(names = "--on-demand", description = "Ask istiod for addresses as they are needed [XDS_ON_DEMAND].")
    Boolean onDemand;

    @Option(
            names = "--cert-ttl",
            paramLabel = "DURATION",
            description = "Certificate lifetime asked for [SECRET_TTL]; default 24h.")
    String certTtl;

    @Option(
            names = "--mesh-file",
            paramLabel = "FILE",
            description =
                    "Local mode: workloads and policies from this file (the ambit run format) instead of istiod [LOCAL_XDS_PATH].")
    Path meshFile;

    @Option(
            names = "--ca-dir",
            paramLabel = "DIR",
            description = "Local mode without --ca-address: the embedded CA's directory; default .ambit/ca.")
    Path caDir;

    @Option(
            names = "--ports",
            paramLabel = "HBONE,SOCKS,METRICS,READY,ADMIN,PLAINTEXT",
            split = ",",
            description = "Listener ports; default 15008,15080,15020,15021,15000,15006.")
    int[] ports;

    @Option(
            names = "--log-format",
            paramLabel = "text|json",
            description = "Access-log lines [LOG_FORMAT]; default text.")
    String logFormat;

    @Option(
            names = "--drain-deadline",
            paramLabel = "DURATION",
            description = "Shutdown drain [CONNECTION_TERMINATION_DEADLINE]; default 5s.")
    String drainDeadline;

    @Option(
            names = "--inpod-uds",
            paramLabel = "PATH",
            description = {
                "In-pod capture: the CNI node agent's ZDS socket; pods are handed over there and get their",
                "listeners inside their own network namespace [INPOD_UDS, or INPOD_ENABLED=true for",
                "/var/run/ztunnel/ztunnel.sock]. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN."
            })
    Path inpodUds;

    @Option(
            names = ComplianceOption.OPTION,
            paramLabel = "default|pqc",
            description = {
                "TLS key exchange of every HBONE listener and client [COMPLIANCE_POLICY]; pqc: X25519MLKEM768",
                "only, TLS 1.3 only (peers without ML-KEM cannot connect); default: X25519MLKEM768, then X25519."
            })
    String compliancePolicy;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The ZDS socket: the flag, else {@code INPOD_UDS}, else ztunnel's path when {@code INPOD_ENABLED=true}. */
    static Path inpodSocket(Path flag, Map<String, String> env) {
        if (flag != null) {
            return flag;
        }
        String uds = env.get("INPOD_UDS");
        String enabled = env.getOrDefault("INPOD_ENABLED", "").trim().toLowerCase(java.util.Locale.ROOT);
        if (!enabled.isEmpty() && !enabled.equals("true") && !enabled.equals("false")) {
            throw new IllegalArgumentException(
                    "INPOD_ENABLED is \"" + env.get("INPOD_ENABLED") + "\" (expected: true or false)");
        }
        if (enabled.equals("false")) {
            return null;
        }
        if (uds != null && !uds.isBlank()) {
            return Path.of(uds);
        }
        return enabled.equals("true") ? Path.of("/var/run/ztunnel/ztunnel.sock") : null;
    }

    ZtunnelSettings.Flags flags() {
        Node.Ports p = null;
        if (ports != null) {
            try {
                // picocli only checks that each is an int: 70000 would be taken and fail (or not) much later
                p = Node.Ports.ofList(ports);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--ports " + e.getMessage(), e);
            }
        }
        return new ZtunnelSettings.Flags(
                xdsAddress,
                caAddress,
                rootCert,
                xdsRootCert,
                caRootCert,
                tokenFile,
                clusterId,
                node,
                podName,
                podNamespace,
                instanceIp,
                serviceAccount,
                trustDomain,
                rootNamespace,
                onDemand,
                meshFile,
                caDir,
                certTtl,
                p);
    }

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        ZtunnelSettings settings;
        AccessLog accessLog;
        java.time.Duration drain;
        Path zds;
        io.ambit.hbone.tls.TlsSettings tls;
        try {
            var env = System.getenv();
            tls = ComplianceOption.tls(compliancePolicy, env);
            settings = ZtunnelSettings.resolve(flags(), env);
            zds = inpodSocket(inpodUds, env);
            // DNS_CAPTURE, DNS_PROXY_ADDR, AMBIT_RESOLV_CONF: a bad value is refused here, by name
            io.ambit.ztunnel.dns.InPodDns.fromEnvironment(env);
            accessLog = AccessLog.slf4j(
                    AccessLog.Format.parse(logFormat != null ? logFormat : env.getOrDefault("LOG_FORMAT", "text")));
            drain = drainDeadline != null
                    ? DrainDeadline.parse(drainDeadline, "--drain-deadline")
                    : DrainDeadline.fromEnvironment(env);
        } catch (IllegalArgumentException e) {
            err.println("ambit ztunnel: " + e.getMessage());
            return 2;
        }
        ZtunnelProcess process;
        try {
            process = ZtunnelProcess.start(settings, accessLog, LogbackLevels.current(), drain, zds, tls);
        } catch (InvalidMeshFileException | CertificateSourceException e) {
            err.println("ambit ztunnel: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("ambit ztunnel: cannot start: " + e);
            return 1;
        }
        out.println("ambit ztunnel: node " + settings.nodeName() + ", mesh from "
                + (settings.xds() != null ? settings.xds().address() : settings.meshFile()) + ", certificates from "
                + (settings.ca() != null ? settings.ca().address() : "the embedded CA in " + settings.caDir())
                + (zds != null ? ", pods from ZDS at " + zds : ""));
        if (!ComplianceOption.describe(tls).isEmpty()) {
            out.println("  " + ComplianceOption.describe(tls));
        }
        out.println("  metrics http://" + hostPort(process.metricsAddress()) + "/metrics  ready http://"
                + hostPort(process.readinessAddress()) + "/healthz/ready  admin http://"
                + hostPort(process.adminAddress()) + "/config_dump");
        out.flush();
        UntilShutdown.await(process::close, process.closed());
        return 0;
    }

    private static String hostPort(java.net.InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }
}
