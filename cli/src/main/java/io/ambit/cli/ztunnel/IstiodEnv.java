package io.ambit.cli.ztunnel;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a node reads Istio's settings from its environment, shared by {@code ambit ztunnel} and the cluster
 * {@code ambit waypoint} (both talk to istiod the same way): istiod's address, the CA token, the root
 * certificate, {@code XDS_HEADER_*}-style variables. One reading, so a fix reaches both.
 */
public final class IstiodEnv {
    /** Where istiod listens in every Istio install. */
    public static final String DEFAULT_ISTIOD = "https://istiod.istio-system.svc:15012";

    private IstiodEnv() {}

    /**
     * istiod's (or its CA's) address. Istio's charts write it without a scheme ({@code
     * istiod.istio-system.svc:15012}); {@link URI} would read the host as the scheme. The port is TLS: https.
     *
     * @param what the flag or variable it came from, for the error
     */
    public static URI address(String text, String what) {
        try {
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

    /**
     * The CA token: the flag or {@code AUTH_TOKEN} must be readable; {@code fallback} is used only when it exists
     * (talking to {@code ambit control-plane} on a laptop there is none and none is needed).
     */
    public static Path tokenFile(Path flag, Map<String, String> env, Path fallback) {
        if (flag != null || blankToNull(env.get("AUTH_TOKEN")) != null) {
            Path p = flag != null ? flag : Path.of(env.get("AUTH_TOKEN"));
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException((flag != null ? "--token-file " : "AUTH_TOKEN ") + p
                        + " cannot be read (expected: the projected service-account token, audience istio-ca)");
            }
            return p;
        }
        return Files.isReadable(fallback) ? fallback : null;
    }

    /**
     * The root certificate to verify istiod with: the flag, else {@code variable} from {@code env}, else {@code
     * fallback}; {@code SYSTEM} = the JDK's trust store (null).
     */
    public static Path rootCert(Path flag, Map<String, String> env, String variable, String fallback) {
        String text = flag != null ? flag.toString() : first(blankToNull(env.get(variable)), fallback);
        if (text.equals("SYSTEM")) {
            return null;
        }
        Path p = Path.of(text);
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException((flag != null ? "--root-cert " : variable + " ") + p
                    + " cannot be read (expected: istiod's root-cert.pem, from the istio-ca-root-cert ConfigMap,"
                    + " or SYSTEM for the JDK's trust store)");
        }
        return p;
    }

    /** {@code PREFIX_SOME_NAME=v} → {@code some-name: v}, as Istio turns XDS_HEADER_* into gRPC metadata. */
    public static Map<String, String> prefixed(Map<String, String> env, String prefix) {
        var out = new LinkedHashMap<String, String>();
        env.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT).replace('_', '-'), v);
            }
        });
        return out;
    }

    /** An IP literal only: {@link InetAddress#getByName} would otherwise resolve a name (blocking, DNS). */
    public static InetAddress literal(String ip) throws UnknownHostException {
        if (!ip.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException(ip);
        }
        return InetAddress.getByName(ip);
    }

    public static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @SafeVarargs
    public static <T> T first(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
