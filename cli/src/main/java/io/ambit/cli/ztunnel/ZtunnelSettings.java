package io.ambit.cli.ztunnel;

import static io.ambit.cli.ztunnel.IstiodEnv.address;
import static io.ambit.cli.ztunnel.IstiodEnv.blankToNull;
import static io.ambit.cli.ztunnel.IstiodEnv.first;
import static io.ambit.cli.ztunnel.IstiodEnv.literal;
import static io.ambit.cli.ztunnel.IstiodEnv.prefixed;
import static io.ambit.cli.ztunnel.IstiodEnv.rootCert;
import static io.ambit.cli.ztunnel.IstiodEnv.tokenFile;

import io.ambit.cli.ca.DurationConverter;
import io.ambit.xds.client.XdsSettings;
import io.ambit.ztunnel.node.Node;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Everything {@code ambit ztunnel} runs with, resolved once from flags, then ztunnel's environment
 * variables, then ztunnel's defaults (ztunnel-reference §3.2, §4.1, §5), and checked: a bad value is an
 * error naming the flag or variable and what was expected.
 *
 * @param meshFile      local mode: the mesh file ({@code --mesh-file}, {@code LOCAL_XDS_PATH}); null for xDS
 * @param caDir         local mode without a CA address: the embedded CA's state directory
 * @param xds           how to reach istiod's xDS; null in local mode
 * @param ca            how to reach istiod's CA; null to use the embedded CA (local mode)
 * @param nodeName      the node this ztunnel serves ({@code NODE_NAME}): workloads whose {@code node} it is
 * @param podName       this ztunnel's pod ({@code POD_NAME})
 * @param podNamespace  its namespace ({@code POD_NAMESPACE})
 * @param instanceIp    its IP ({@code INSTANCE_IP}), or empty
 * @param serviceAccount its service account ({@code SERVICE_ACCOUNT}); with the trust domain, its own identity
 * @param trustDomain   the mesh trust domain ({@code TRUST_DOMAIN})
 * @param rootNamespace the mesh root namespace (policies there without selector apply mesh-wide)
 * @param certTtl       the certificate lifetime asked for ({@code SECRET_TTL})
 * @param metadata      extra node metadata ({@code ISTIO_META_*}, prefix stripped)
 * @param bind          where metrics (15020) and readiness (15021) listen: the instance IP, else 127.0.0.1
 * @param ports         the listener ports
 */
public record ZtunnelSettings(
        Path meshFile,
        Path caDir,
        XdsSettings xds,
        XdsSettings ca,
        String nodeName,
        String podName,
        String podNamespace,
        String instanceIp,
        String serviceAccount,
        String trustDomain,
        String rootNamespace,
        Duration certTtl,
        Map<String, Object> metadata,
        InetAddress bind,
        Node.Ports ports) {

    /** ztunnel's default control plane address in a cluster. */
    public static final String DEFAULT_ISTIOD = IstiodEnv.DEFAULT_ISTIOD;

    static final String DEFAULT_ROOT_CERT = "./var/run/secrets/istio/root-cert.pem";
    static final String DEFAULT_TOKEN = "./var/run/secrets/tokens/istio-token";

    /** What the command line gave; null for every option not given. */
    public record Flags(
            String xdsAddress,
            String caAddress,
            Path rootCert,
            Path xdsRootCert,
            Path caRootCert,
            Path tokenFile,
            String clusterId,
            String node,
            String podName,
            String podNamespace,
            String instanceIp,
            String serviceAccount,
            String trustDomain,
            String rootNamespace,
            Boolean onDemand,
            Path meshFile,
            Path caDir,
            String certTtl,
            Node.Ports ports) {
        /** No flag given. */
        public static final Flags NONE = new Flags(
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null);
    }

    /**
     * @throws IllegalArgumentException naming the flag or variable that is wrong and what was expected
     */
    public static ZtunnelSettings resolve(Flags f, Map<String, String> env) {
        Path meshFile = f.meshFile() != null ? f.meshFile() : path(env.get("LOCAL_XDS_PATH"));
        String xdsText = first(f.xdsAddress(), env.get("XDS_ADDRESS"), meshFile != null ? "" : DEFAULT_ISTIOD);
        if (meshFile != null && !xdsText.isEmpty() && f.xdsAddress() != null) {
            throw new IllegalArgumentException(
                    "--mesh-file and --xds-address both given (expected: one source of workloads and policies)");
        }
        if (meshFile == null && xdsText.isEmpty()) {
            throw new IllegalArgumentException("XDS_ADDRESS is empty and no --mesh-file (LOCAL_XDS_PATH) is given "
                    + "(expected: istiod's address, or a local mesh file)");
        }
        String clusterId = first(f.clusterId(), env.get("ISTIO_META_CLUSTER_ID"), env.get("CLUSTER_ID"), "Kubernetes");
        Path token = tokenFile(f.tokenFile(), env, Path.of(DEFAULT_TOKEN));
        XdsSettings xds = null;
        if (meshFile == null) {
            xds = XdsSettings.of(
                            address(xdsText, f.xdsAddress() != null ? "--xds-address" : "XDS_ADDRESS"),
                            rootCert(first(f.xdsRootCert(), f.rootCert()), env, "XDS_ROOT_CA", DEFAULT_ROOT_CERT),
                            token,
                            clusterId)
                    .withServerName(blankToNull(env.get("ALT_XDS_HOSTNAME")))
                    .withHeaders(prefixed(env, "XDS_HEADER_"))
                    .withOnDemand(
                            f.onDemand() != null ? f.onDemand() : bool(env.get("XDS_ON_DEMAND"), "XDS_ON_DEMAND"));
        }
        String caText = first(f.caAddress(), env.get("CA_ADDRESS"), meshFile == null ? xdsText : "");
        XdsSettings ca = null;
        if (!caText.isEmpty()) {
            ca = XdsSettings.of(
                            address(caText, f.caAddress() != null ? "--ca-address" : "CA_ADDRESS"),
                            rootCert(first(f.caRootCert(), f.rootCert()), env, "CA_ROOT_CA", DEFAULT_ROOT_CERT),
                            token,
                            clusterId)
                    .withServerName(blankToNull(env.get("ALT_CA_HOSTNAME")))
                    .withHeaders(prefixed(env, "CA_HEADER_"));
        }
        String node = first(f.node(), env.get("NODE_NAME"), "");
        if (node.isEmpty()) {
            throw new IllegalArgumentException(
                    "no node name (expected: --node or NODE_NAME: this ztunnel serves the workloads on that node)");
        }
        String instanceIp = first(f.instanceIp(), env.get("INSTANCE_IP"), "");
        InetAddress bind;
        try {
            bind = instanceIp.isEmpty() ? InetAddress.getLoopbackAddress() : literal(instanceIp);
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "INSTANCE_IP/--instance-ip \"" + instanceIp + "\" (expected: an IP address)");
        }
        var meta = new LinkedHashMap<String, Object>();
        env.forEach((k, v) -> {
            if (k.startsWith("ISTIO_META_") && k.length() > "ISTIO_META_".length()) {
                meta.put(k.substring("ISTIO_META_".length()), v);
            }
        });
        String ttlText = first(f.certTtl(), env.get("SECRET_TTL"), "24h");
        Duration ttl;
        try {
            ttl = DurationConverter.parse(ttlText);
        } catch (RuntimeException e) { // picocli's TypeConversionException, or IllegalArgumentException
            throw new IllegalArgumentException("SECRET_TTL/--cert-ttl: " + e.getMessage());
        }
        return new ZtunnelSettings(
                meshFile,
                f.caDir() != null ? f.caDir() : Path.of(".ambit/ca"),
                xds,
                ca,
                node,
                first(f.podName(), env.get("POD_NAME"), "ztunnel"),
                first(f.podNamespace(), env.get("POD_NAMESPACE"), "istio-system"),
                instanceIp,
                first(f.serviceAccount(), env.get("SERVICE_ACCOUNT"), "ztunnel"),
                first(f.trustDomain(), env.get("TRUST_DOMAIN"), "cluster.local"),
                first(f.rootNamespace(), env.get("ROOT_NAMESPACE"), "istio-system"),
                ttl,
                meta,
                bind,
                f.ports() != null ? f.ports() : Node.Ports.DEFAULT);
    }

    private static boolean bool(String text, String what) {
        if (text == null || text.isEmpty()) {
            return false;
        }
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new IllegalArgumentException(what + " \"" + text + "\" (expected: true or false)");
        };
    }

    private static Path path(String text) {
        return text == null || text.isEmpty() ? null : Path.of(text);
    }
}
