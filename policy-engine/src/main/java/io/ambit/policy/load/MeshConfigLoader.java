package io.ambit.policy.load;

import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.policy.mesh.HeaderPattern;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.path.PathNormalization;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads the mesh settings file: {@code rootNamespace}, {@code trustDomain}, {@code trustDomainAliases},
 * {@code pathNormalization}, {@code extensionProviders} (names, or Istio-style entries with a
 * {@code name}), {@code extendedConditions}, {@code timeZone}. Istio's {@code meshConfig:} wrapper is
 * accepted too, so a user can point at the values they already have.
 *
 * <p>Extension providers of kind {@code envoyExtAuthzHttp} and {@code envoyExtAuthzGrpc} are read in full
 * and validated as Istio does (port 1..65535, {@code pathPrefix} starting with {@code /}, {@code
 * statusOnError} an Envoy status code, no lone {@code "*"} in header lists), plus Ambit's bounds (a timeout
 * up to 1h, a request body up to 4 MiB). Other Istio kinds are kept by name.
 */
public final class MeshConfigLoader {
    private static final Set<String> KEYS = Set.of(
            "rootNamespace",
            "trustDomain",
            "trustDomainAliases",
            "pathNormalization",
            "extensionProviders",
            "extendedConditions",
            "timeZone");

    private MeshConfigLoader() {}

    /** Thrown with every problem of a mesh file. */
    public static final class InvalidMeshConfigException extends Exception {
        private final List<LoadError> errors;

        InvalidMeshConfigException(List<LoadError> errors) {
            super(errors.stream()
                    .map(LoadError::toString)
                    .reduce((a, b) -> a + "\n" + b)
                    .orElse("invalid mesh config"));
            this.errors = List.copyOf(errors);
        }

        public List<LoadError> errors() {
            return errors;
        }
    }

    public static MeshConfig load(Path file) throws InvalidMeshConfigException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(file.toString(), 0, null, null, "cannot read file: " + e.getMessage())));
        }
    }

    public static MeshConfig parse(String text, String name) throws InvalidMeshConfigException {
        var p = new Problems(name);
        int deep = YamlDepth.tooDeep(text);
        if (deep > 0) {
            throw new InvalidMeshConfigException(List.of(new LoadError(
                    name,
                    deep,
                    null,
                    null,
                    "invalid YAML: nested more than " + YamlDepth.MAX_FLOW_DEPTH
                            + " levels (expected: mesh settings)")));
        }
        YamlNode root;
        try {
            var node = new Compose(LoadSettings.builder()
                            .setLabel(name)
                            .setAllowDuplicateKeys(false)
                            .build())
                    .composeAllFromReader(new StringReader(text))
                    .iterator();
            root = node.hasNext() ? new YamlNode(node.next(), "", new YamlNode.Budget()) : null;
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(name, line, null, null, "invalid YAML: " + e.getProblem())));
        } catch (YamlEngineException e) {
            throw new InvalidMeshConfigException(List.of(
                    new LoadError(name, YamlErrorLine.of(text, e), null, null, "invalid YAML: " + e.getMessage())));
        } catch (StackOverflowError e) {
            throw new InvalidMeshConfigException(
                    List.of(new LoadError(name, 0, null, null, "invalid YAML: nested too deeply to parse")));
        }
        if (root == null || root.isNull()) {
            return MeshConfig.DEFAULT;
        }
        var duplicates = new ArrayList<LoadError>();
        DuplicateKeys.check(root.raw(), name, duplicates);
        if (!duplicates.isEmpty()) {
            throw new InvalidMeshConfigException(duplicates);
        }
        var top = Fields.map(root, p, null);
        boolean istioWrapper = top.size() == 1 && top.containsKey("meshConfig");
        if (istioWrapper) {
            root = top.get("meshConfig");
        }
        // What users paste from Istio: an IstioOperator (spec.meshConfig) or the istio ConfigMap (data.mesh, a
        // YAML document in a string).
        String kind = top.get("kind") != null && top.get("kind").isScalar()
                ? top.get("kind").text()
                : "";
        if (kind.equals("IstioOperator")) {
            var spec = Fields.map(top.get("spec"), p, null);
            if (!spec.containsKey("meshConfig")) {
                return MeshConfig.DEFAULT;
            }
            root = spec.get("meshConfig");
            istioWrapper = true;
        } else if (kind.equals("ConfigMap")) {
            var data = Fields.map(top.get("data"), p, null);
            String mesh = Fields.string(data.get("mesh"), p);
            if (p.any()) {
                throw new InvalidMeshConfigException(p.errors());
            }
            return mesh == null ? MeshConfig.DEFAULT : parse("meshConfig:\n" + mesh.indent(2), name + " (data.mesh)");
        }
        // Inside Istio's meshConfig wrapper the rest of Istio's settings (accessLogFile, defaultConfig...)
        // are not ours to judge; in Ambit's own file an unknown key is a typo.
        var f = Fields.map(root, p, istioWrapper ? null : KEYS);
        var d = MeshConfig.DEFAULT;
        String rootNs = orDefault(Fields.string(f.get("rootNamespace"), p), d.rootNamespace());
        String td = orDefault(Fields.string(f.get("trustDomain"), p), d.trustDomain());
        var aliases = Fields.stringList(f.get("trustDomainAliases"), p);
        var norm = d.pathNormalization();
        var normNode = f.get("pathNormalization");
        String normText = null;
        if (normNode != null && !normNode.isMap()) {
            normText = Fields.string(normNode, p);
        } else if (normNode != null) {
            // Istio spells it meshConfig.pathNormalization.normalization
            var nf = Fields.map(normNode, p, Set.of("normalization"));
            normText = Fields.string(nf.get("normalization"), p);
        }
        if (normText != null) {
            try {
                norm = PathNormalization.parse(normText);
            } catch (IllegalArgumentException e) {
                p.at(normNode, e.getMessage());
            }
        }
        List<ExtensionProvider> providers = null;
        var provNodes = Fields.listOrNull(f.get("extensionProviders"), p);
        if (provNodes != null) {
            providers = new ArrayList<>();
            var seen = new HashMap<String, YamlNode>();
            for (var n : provNodes) {
                ExtensionProvider ep = null;
                if (n.isScalar()) {
                    if (n.text().isEmpty()) {
                        p.at(n, "is empty (expected: a provider name)");
                    } else {
                        ep = new ExtensionProvider.Other(n.text(), null);
                    }
                } else if (n.isMap()) {
                    ep = provider(n, p);
                } else {
                    p.at(n, "is " + n.kindName() + " (expected: a provider name or a map with name)");
                }
                if (ep != null) {
                    var first = seen.putIfAbsent(ep.name(), n);
                    if (first != null) {
                        p.at(
                                n,
                                "names provider \"" + ep.name() + "\" again (first at line " + first.line()
                                        + "; expected: unique provider names)");
                    } else {
                        providers.add(ep);
                    }
                }
            }
        }
        boolean extended = f.containsKey("extendedConditions") && Fields.bool(f.get("extendedConditions"), p);
        var zone = d.timeZone();
        String zoneText = Fields.string(f.get("timeZone"), p);
        if (zoneText != null) {
            try {
                zone = ZoneId.of(zoneText);
            } catch (DateTimeException e) {
                p.at(
                        f.get("timeZone"),
                        "is \"" + zoneText + "\" (expected: an IANA time zone such as UTC or Europe/Berlin)");
            }
        }
        if (p.any()) {
            throw new InvalidMeshConfigException(p.errors());
        }
        return new MeshConfig(rootNs, td, aliases, norm, null, extended, zone, providers);
    }

    private static final Set<String> HTTP_FIELDS = Set.of(
            "service",
            "port",
            "timeout",
            "pathPrefix",
            "failOpen",
            "statusOnError",
            "includeHeadersInCheck",
            "includeRequestHeadersInCheck",
            "includeAdditionalHeadersInCheck",
            "headersToUpstreamOnAllow",
            "headersToDownstreamOnDeny",
            "headersToDownstreamOnAllow",
            "includeRequestBodyInCheck",
            "clearRouteCache");
    private static final Set<String> GRPC_FIELDS = Set.of(
            "service", "port", "timeout", "failOpen", "statusOnError", "includeRequestBodyInCheck", "clearRouteCache");
    private static final Set<String> BODY_FIELDS = Set.of("maxRequestBytes", "allowPartialMessage", "packAsBytes");
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");
    private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern PATH_PREFIX = Pattern.compile("/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*");

    /** One {@code extensionProviders} map: a name and at most one provider kind. */
    private static ExtensionProvider provider(YamlNode n, Problems p) {
        var allowed = new LinkedHashSet<String>();
        allowed.add("name");
        allowed.add("envoyExtAuthzHttp");
        allowed.add("envoyExtAuthzGrpc");
        allowed.addAll(ExtensionProvider.OTHER_KINDS);
        var f = Fields.map(n, p, allowed);
        String name = Fields.string(f.get("name"), p);
        if (name == null || name.isEmpty()) {
            p.at(n, ".name", "is missing (expected: the provider name)");
            return null;
        }
        var kinds = new TreeSet<>(f.keySet());
        kinds.remove("name");
        kinds.retainAll(allowed);
        if (kinds.size() > 1) {
            p.at(n, "declares " + String.join(" and ", kinds) + " (expected: one provider kind per entry)");
            return null;
        }
        if (kinds.isEmpty()) {
            return new ExtensionProvider.Other(name, null);
        }
        String kind = kinds.first();
        return switch (kind) {
            case "envoyExtAuthzHttp" -> extAuthzHttp(name, f.get(kind), p);
            case "envoyExtAuthzGrpc" -> extAuthzGrpc(name, f.get(kind), p);
            default -> new ExtensionProvider.Other(name, kind);
        };
    }

    private static ExtensionProvider.ExtAuthzHttp extAuthzHttp(String name, YamlNode n, Problems p) {
        int before = p.errors().size();
        if (n == null || !n.isMap()) {
            p.at(n, "is " + (n == null ? "missing" : n.kindName()) + " (expected: a map with service and port)");
            return null;
        }
        var f = Fields.map(n, p, HTTP_FIELDS);
        String service = service(n, f, p);
        int port = port(n, f, p);
        Duration timeout = timeout(f.get("timeout"), p);
        String prefix = Fields.string(f.get("pathPrefix"), p);
        if (prefix != null && !prefix.isEmpty() && !PATH_PREFIX.matcher(prefix).matches()) {
            p.at(f.get("pathPrefix"), "is \"" + prefix + "\" (expected: a URL path that starts with /, such as /auth)");
        }
        boolean failOpen = Fields.bool(f.get("failOpen"), p);
        int status = statusOnError(f.get("statusOnError"), p);
        var include = f.containsKey("includeRequestHeadersInCheck")
                ? patterns(f.get("includeRequestHeadersInCheck"), p)
                : patterns(f.get("includeHeadersInCheck"), p);
        var additional = additionalHeaders(f.get("includeAdditionalHeadersInCheck"), p);
        var upstream = patterns(f.get("headersToUpstreamOnAllow"), p);
        var onDeny = patterns(f.get("headersToDownstreamOnDeny"), p);
        var onAllow = patterns(f.get("headersToDownstreamOnAllow"), p);
        var body = requestBody(f.get("includeRequestBodyInCheck"), p);
        Fields.bool(f.get("clearRouteCache"), p); // accepted: Ambit routes after ext_authz anyway
        if (p.errors().size() > before) {
            return null;
        }
        return new ExtensionProvider.ExtAuthzHttp(
                name,
                service,
                port,
                timeout,
                prefix,
                failOpen,
                status,
                include,
                additional,
                upstream,
                onDeny,
                onAllow,
                body);
    }

    private static ExtensionProvider.ExtAuthzGrpc extAuthzGrpc(String name, YamlNode n, Problems p) {
        int before = p.errors().size();
        if (n == null || !n.isMap()) {
            p.at(n, "is " + (n == null ? "missing" : n.kindName()) + " (expected: a map with service and port)");
            return null;
        }
        var f = Fields.map(n, p, GRPC_FIELDS);
        String service = service(n, f, p);
        int port = port(n, f, p);
        Duration timeout = timeout(f.get("timeout"), p);
        boolean failOpen = Fields.bool(f.get("failOpen"), p);
        int status = statusOnError(f.get("statusOnError"), p);
        var body = requestBody(f.get("includeRequestBodyInCheck"), p);
        Fields.bool(f.get("clearRouteCache"), p);
        if (p.errors().size() > before) {
            return null;
        }
        return new ExtensionProvider.ExtAuthzGrpc(name, service, port, timeout, failOpen, status, body);
    }

    /** {@code [<namespace>/]<hostname>}: a DNS name or an IP address, optionally after a namespace. */
    private static String service(YamlNode parent, Map<String, YamlNode> f, Problems p) {
        String s = Fields.required(parent, f, "service", p);
        if (s == null || s.isEmpty()) {
            return s;
        }
        String host = s.substring(s.indexOf('/') + 1);
        boolean ok = s.indexOf('/') == s.lastIndexOf('/') && !host.isEmpty() && host.length() <= 253;
        if (ok && !isIpLiteral(host)) {
            for (String label : host.split("\\.", -1)) {
                ok &= HOST_LABEL.matcher(label).matches();
            }
        }
        if (!ok) {
            p.at(
                    f.get("service"),
                    "is \"" + s + "\" (expected: [<namespace>/]<hostname>, such as "
                            + "ext-authz.auth.svc.cluster.local)");
        }
        return s;
    }

    private static boolean isIpLiteral(String h) {
        return h.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || (h.contains(":") && h.matches("[0-9A-Fa-f:.]+"));
    }

    private static int port(YamlNode parent, Map<String, YamlNode> f, Problems p) {
        var n = f.get("port");
        if (n == null || n.isNull()) {
            p.at(parent, ".port", "is missing (expected: a port 1..65535)");
            return 0;
        }
        String s = Fields.string(n, p);
        if (s == null) {
            return 0;
        }
        try {
            int v = Integer.parseInt(s);
            if (v >= 1 && v <= 65535) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        p.at(n, "is \"" + s + "\" (expected: a port 1..65535)");
        return 0;
    }

    /** Istio writes durations as protobuf JSON ({@code 0.5s}); Go-style {@code 500ms}, {@code 1m} work too. */
    private static Duration timeout(YamlNode n, Problems p) {
        String s = Fields.string(n, p);
        if (s == null) {
            return ExtensionProvider.DEFAULT_TIMEOUT;
        }
        var m = DURATION.matcher(s.strip());
        Duration d = null;
        if (m.matches()) {
            BigDecimal v = new BigDecimal(m.group(1));
            BigDecimal millis =
                    switch (m.group(2)) {
                        case "ms" -> v;
                        case "s" -> v.movePointRight(3);
                        case "m" -> v.multiply(BigDecimal.valueOf(60_000));
                        default -> v.multiply(BigDecimal.valueOf(3_600_000));
                    };
            if (millis.compareTo(BigDecimal.ONE) >= 0
                    && millis.compareTo(BigDecimal.valueOf(MAX_TIMEOUT.toMillis())) <= 0) {
                d = Duration.ofMillis(millis.longValue());
            }
        }
        if (d == null) {
            p.at(n, "is \"" + s + "\" (expected: a duration from 1ms to 1h, such as 0.5s or 500ms)");
            return ExtensionProvider.DEFAULT_TIMEOUT;
        }
        return d;
    }

    private static int statusOnError(YamlNode n, Problems p) {
        String s = Fields.string(n, p);
        if (s == null || s.isEmpty()) {
            return ExtensionProvider.DEFAULT_STATUS_ON_ERROR;
        }
        try {
            int v = Integer.parseInt(s);
            if (ExtensionProvider.ENVOY_STATUS_CODES.contains(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        p.at(n, "is \"" + s + "\" (expected: an HTTP status code Envoy knows, such as 403 or 503)");
        return ExtensionProvider.DEFAULT_STATUS_ON_ERROR;
    }

    private static List<HeaderPattern> patterns(YamlNode n, Problems p) {
        var out = new ArrayList<HeaderPattern>();
        var items = Fields.listOrNull(n, p);
        if (items == null) {
            return out;
        }
        for (var item : items) {
            if (!item.isScalar()) {
                p.at(item, "is " + item.kindName() + " (expected: a header name, or a prefix* or *suffix pattern)");
                continue;
            }
            try {
                out.add(HeaderPattern.parse(item.text()));
            } catch (IllegalArgumentException e) {
                p.at(item, e.getMessage());
            }
        }
        return out;
    }

    private static Map<String, String> additionalHeaders(YamlNode n, Problems p) {
        var out = new LinkedHashMap<String, String>();
        for (var e : Fields.map(n, p, null).entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            String value = Fields.string(e.getValue(), p);
            if (name.isEmpty() || !name.matches("[a-z0-9!#$%&'*+.^_`|~-]+")) {
                p.at(
                        e.getValue(),
                        "is under \"" + e.getKey() + "\", which is not a header name (expected: a token "
                                + "such as x-ext-authz-source)");
            } else if (value != null && !value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c != 0x7f))) {
                p.at(e.getValue(), "has a control character (expected: a header value on one line)");
            } else if (value != null) {
                out.put(name, value);
            }
        }
        return out;
    }

    private static ExtensionProvider.RequestBody requestBody(YamlNode n, Problems p) {
        if (n == null || n.isNull()) {
            return null;
        }
        var f = Fields.map(n, p, BODY_FIELDS);
        var maxNode = f.get("maxRequestBytes");
        int max = 0;
        String s = Fields.string(maxNode, p);
        if (s == null) {
            p.at(n, ".maxRequestBytes", "is missing (expected: 1 to " + ExtensionProvider.RequestBody.MAX_BYTES + ")");
        } else {
            try {
                max = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 1 || max > ExtensionProvider.RequestBody.MAX_BYTES) {
                p.at(maxNode, "is \"" + s + "\" (expected: 1 to " + ExtensionProvider.RequestBody.MAX_BYTES + ")");
            }
        }
        return new ExtensionProvider.RequestBody(
                max, Fields.bool(f.get("allowPartialMessage"), p), Fields.bool(f.get("packAsBytes"), p));
    }

    private static String orDefault(String v, String d) {
        return v == null || v.isEmpty() ? d : v;
    }
}
