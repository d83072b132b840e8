package io.ambit.policy.crd;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code when[].key}. Parsing here is the one place that knows which keys exist, which ones
 * ztunnel can enforce (the five L4 keys, authz-semantics §2.7) and which are Ambit's extended conditions.
 *
 * @param kind the attribute
 * @param arg  header name (lower-cased) for {@link Kind#REQUEST_HEADER}, null otherwise
 * @param path claim path for {@link Kind#AUTH_CLAIM}, empty otherwise
 */
public record ConditionKey(Kind kind, String arg, List<String> path) {

    /** What a condition key reads. */
    public enum Kind {
        REQUEST_HEADER,
        SOURCE_IP,
        REMOTE_IP,
        SOURCE_NAMESPACE,
        SOURCE_PRINCIPAL,
        SOURCE_SERVICE_ACCOUNT,
        SOURCE_TRUST_DOMAIN,
        AUTH_PRINCIPAL,
        AUTH_AUDIENCES,
        AUTH_PRESENTER,
        AUTH_CLAIM,
        DESTINATION_IP,
        DESTINATION_PORT,
        CONNECTION_SNI,
        EXPERIMENTAL,
        /** Extended: {@code custom.time_of_day}. */
        TIME_OF_DAY,
        /** Extended: {@code custom.day_of_week}. */
        DAY_OF_WEEK,
        /** Extended: {@code request.url_path}. */
        URL_PATH
    }

    /**
     * The only keys ztunnel enforces (authz-semantics §2.7); any other key makes a rule HTTP-only at L4.
     * Ambit's extended time conditions are not HTTP attributes, so ztunnel enforces them too.
     */
    public boolean isL4() {
        return switch (kind) {
            case SOURCE_IP,
                    SOURCE_NAMESPACE,
                    SOURCE_PRINCIPAL,
                    DESTINATION_IP,
                    DESTINATION_PORT,
                    TIME_OF_DAY,
                    DAY_OF_WEEK -> true;
            default -> false;
        };
    }

    public boolean isExtended() {
        return kind == Kind.TIME_OF_DAY || kind == Kind.DAY_OF_WEEK || kind == Kind.URL_PATH;
    }

    public boolean isIp() {
        return kind == Kind.SOURCE_IP || kind == Kind.REMOTE_IP || kind == Kind.DESTINATION_IP;
    }

    /** Keys whose values may use the extended numeric comparisons ({@code >N}, {@code <=N}, ...). */
    public boolean allowsComparison() {
        return kind == Kind.REQUEST_HEADER || kind == Kind.AUTH_CLAIM;
    }

    /**
     * Parses a key.
     *
     * @throws IllegalArgumentException naming the key and what was expected
     */
    public static ConditionKey parse(String key) {
        switch (key) {
            case "source.ip":
                return of(Kind.SOURCE_IP);
            case "remote.ip":
                return of(Kind.REMOTE_IP);
            case "source.namespace":
                return of(Kind.SOURCE_NAMESPACE);
            case "source.principal":
                return of(Kind.SOURCE_PRINCIPAL);
            case "source.serviceAccount":
                return of(Kind.SOURCE_SERVICE_ACCOUNT);
            case "source.trustDomain":
                return of(Kind.SOURCE_TRUST_DOMAIN);
            case "request.auth.principal":
                return of(Kind.AUTH_PRINCIPAL);
            case "request.auth.audiences":
                return of(Kind.AUTH_AUDIENCES);
            case "request.auth.presenter":
                return of(Kind.AUTH_PRESENTER);
            case "destination.ip":
                return of(Kind.DESTINATION_IP);
            case "destination.port":
                return of(Kind.DESTINATION_PORT);
            case "connection.sni":
                return of(Kind.CONNECTION_SNI);
            case "custom.time_of_day":
                return of(Kind.TIME_OF_DAY);
            case "custom.day_of_week":
                return of(Kind.DAY_OF_WEEK);
            case "request.url_path":
                return of(Kind.URL_PATH);
            case "destination.namespace", "destination.name", "destination.user":
                throw unsupported(key);
            default:
                break;
        }
        if (key.startsWith("destination.labels")) {
            throw unsupported(key);
        }
        if (key.startsWith("request.headers")) {
            var parts = brackets(key, "request.headers");
            if (parts.size() != 1) {
                throw malformed(key, "request.headers[<name>]");
            }
            return new ConditionKey(
                    Kind.REQUEST_HEADER, parts.getFirst().toLowerCase(java.util.Locale.ROOT), List.of());
        }
        if (key.startsWith("request.auth.claims")) {
            var parts = brackets(key, "request.auth.claims");
            if (parts.isEmpty()) {
                throw malformed(key, "request.auth.claims[<claim>] or request.auth.claims[<claim>][<nested>]");
            }
            return new ConditionKey(Kind.AUTH_CLAIM, null, List.copyOf(parts));
        }
        if (key.startsWith("experimental.envoy.filters.")) {
            int open = key.indexOf('[');
            if (open <= "experimental.envoy.filters.".length()
                    || !key.endsWith("]")
                    || open != key.lastIndexOf('[')
                    || key.indexOf(']') != key.length() - 1
                    || open + 1 == key.length() - 1) {
                throw malformed(key, "experimental.envoy.filters.<filter>[<key>]");
            }
            return of(Kind.EXPERIMENTAL);
        }
        throw new IllegalArgumentException("unknown key \"" + key + "\" (expected one of: request.headers[<name>], "
                + "source.ip, remote.ip, source.namespace, source.principal, request.auth.principal, "
                + "request.auth.audiences, request.auth.presenter, request.auth.claims[<claim>], destination.ip, "
                + "destination.port, connection.sni, experimental.envoy.filters.<filter>[<key>])");
    }

    private static IllegalArgumentException unsupported(String key) {
        return new IllegalArgumentException("key \"" + key + "\" is not supported by Istio authorization (expected: "
                + "a source, request or destination.ip/destination.port key; the destination is chosen by the "
                + "policy's selector or targetRefs)");
    }

    private static ConditionKey of(Kind kind) {
        return new ConditionKey(kind, null, List.of());
    }

    /** Splits {@code prefix[a][b]} into [a, b]; throws on anything but non-empty bracket groups. */
    private static List<String> brackets(String key, String prefix) {
        var out = new ArrayList<String>();
        int i = prefix.length();
        String form = prefix.equals("request.headers") ? "request.headers[<name>]" : prefix + "[<claim>]";
        if (i == key.length()) {
            throw malformed(key, form);
        }
        while (i < key.length()) {
            if (key.charAt(i) != '[') {
                throw malformed(key, form);
            }
            int close = key.indexOf(']', i);
            if (close < 0) {
                throw malformed(key, form);
            }
            String part = key.substring(i + 1, close);
            if (part.isEmpty() || part.indexOf('[') >= 0) {
                throw malformed(key, form);
            }
            out.add(part);
            i = close + 1;
        }
        return out;
    }

    private static IllegalArgumentException malformed(String key, String form) {
        return new IllegalArgumentException("malformed key \"" + key + "\" (expected the form " + form + ")");
    }
}
