package io.ambit.cli.ztunnel;

import io.ambit.cli.ca.DurationConverter;
import io.ambit.xds.client.XdsSettings;
import io.ambit.ztunnel.node.Node;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
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
    public static final String DEFAULT_ISTIOD = "https://istiod.istio-system.svc:15012";

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
        Path token = tokenFile(f, env);
        XdsSettings xds = null;
        if (meshFile == null) {
            xds = XdsSettings.of(
                            address(xdsText, f.xdsAddress() != null ? "--xds-address" : "XDS_ADDRESS"),
                            rootCert(first(f.xdsRootCert(), f.rootCert()), env.get("XDS_ROOT_CA"), "XDS_ROOT_CA"),
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
                            rootCert(first(f.caRootCert(), f.rootCert()), env.get("CA_ROOT_CA"), "CA_ROOT_CA"),
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

    /**
     * The token file: the flag or {@code AUTH_TOKEN} must exist; ztunnel's default path is used only when
     * it exists (on a laptop, talking to {@code ambit control-plane}, there is none and none is needed).
     */
    private static Path tokenFile(Flags f, Map<String, String> env) {
        if (f.tokenFile() != null || blankToNull(env.get("AUTH_TOKEN")) != null) {
            Path p = f.tokenFile() != null ? f.tokenFile() : Path.of(env.get("AUTH_TOKEN"));
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException((f.tokenFile() != null ? "--token-file " : "AUTH_TOKEN ") + p
                        + " cannot be read (expected: the projected service-account token, audience istio-ca)");
            }
            return p;
        }
        Path p = Path.of(DEFAULT_TOKEN);
        return Files.isReadable(p) ? p : null;
    }

    private static Path rootCert(Path flag, String env, String name) {
        String text = flag != null ? flag.toString() : first(env, DEFAULT_ROOT_CERT);
        if (text.equals("SYSTEM")) {
            return null; // the JDK's trust store
        }
        Path p = Path.of(text);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException((flag != null ? "--root-cert " : name + " ") + p
                    + " cannot be read (expected: istiod's root-cert.pem, or SYSTEM for the JDK's trust store)");
        }
        return p;
    }

    private static URI address(String text, String what) {
        try {
            // Istio's charts (and deploy/ztunnel/daemonset.yaml) write istiod.istio-system.svc:15012 without a
            // scheme; URI would read "istiod.istio-system.svc" as the scheme. The port is TLS: https.
            var uri = URI.create(text.contains("://") ? text : "https://" + text);
            if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException();
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    what + " \"" + text + "\" (expected: https://host:port such as " + DEFAULT_ISTIOD + ")");
        }
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

    private static Map<String, String> prefixed(Map<String, String> env, String prefix) {
        var out = new LinkedHashMap<String, String>();
        env.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT).replace('_', '-'), v);
            }
        });
        return out;
    }

    private static InetAddress literal(String ip) throws UnknownHostException {
        if (!ip.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException(ip);
        }
        return InetAddress.getByName(ip);
    }

    private static Path path(String text) {
        return text == null || text.isEmpty() ? null : Path.of(text);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @SafeVarargs
    private static <T> T first(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
