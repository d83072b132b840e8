package io.ambit.cli.authz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Token;
import io.ambit.policy.match.IpAddress;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns one request object of the {@code authz check} format into an {@link AccessRequest}. Every error
 * names the field and what was expected. Unknown fields are collected (and reported once by the caller)
 * rather than rejected, so that request files can carry their own notes and expectations.
 */
final class RequestReader {
    /** A parsed request and the layer it is for. */
    record Parsed(boolean l7, AccessRequest request) {}

    private static final Set<String> TOP = Set.of(
            "layer",
            "source",
            "destination",
            "method",
            "host",
            "path",
            "headers",
            "jwt",
            "jwtInvalid",
            "sni",
            "extAuthz",
            "time");
    private static final Set<String> SOURCE = Set.of("principal", "namespace", "ip", "remoteIp", "serviceAccount");
    private static final Set<String> DESTINATION =
            Set.of("namespace", "labels", "serviceAccount", "ip", "port", "service", "waypoint", "waypointNamespace");
    private static final Set<String> JWT = Set.of("issuer", "subject", "audiences", "presenter", "claims");

    private final ObjectMapper json = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            // one request per object: "{...} {...}" on a line is bad input, not a silently dropped request
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    final Set<String> unknownFields = new TreeSet<>();

    Parsed parse(String text) throws RequestParseException {
        JsonNode root;
        try {
            root = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new RequestParseException("invalid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new RequestParseException("expected a JSON object");
        }
        unknown(root, TOP, "");
        var b = AccessRequest.builder();

        var src = object(root, "source");
        if (src != null) {
            unknown(src, SOURCE, "source.");
            String principal = string(src, "principal", "source.principal");
            if (principal != null) {
                if (principal.isEmpty()) {
                    throw new RequestParseException(
                            "source.principal: is empty (expected: a SPIFFE id without spiffe://, or omit it for plaintext)");
                }
                b.peer(principal);
            }
            b.sourceIp(ip(src, "ip", "source.ip"));
            b.remoteIp(ip(src, "remoteIp", "source.remoteIp"));
        }

        var dst = object(root, "destination");
        if (dst != null) {
            unknown(dst, DESTINATION, "destination.");
            var labels = new LinkedHashMap<String, String>();
            var l = object(dst, "labels");
            if (l != null) {
                for (var e : l.properties()) {
                    if (!e.getValue().isTextual()) {
                        throw new RequestParseException("destination.labels." + e.getKey() + ": expected a string");
                    }
                    labels.put(e.getKey(), e.getValue().asText());
                }
            }
            String waypoint = string(dst, "waypoint", "destination.waypoint");
            // The waypoint's Gateway may live in another namespace (istio.io/use-waypoint-namespace); its
            // Gateway targetRefs are looked up there. Absent: the destination's namespace.
            String waypointNamespace = string(dst, "waypointNamespace", "destination.waypointNamespace");
            if (waypointNamespace != null && waypoint == null) {
                throw new RequestParseException("destination.waypointNamespace: set without destination.waypoint"
                        + " (expected: the namespace of the waypoint Gateway named by destination.waypoint)");
            }
            b.destination(new AccessRequest.Destination(
                    string(dst, "namespace", "destination.namespace"),
                    labels,
                    string(dst, "serviceAccount", "destination.serviceAccount"),
                    string(dst, "service", "destination.service"),
                    waypoint,
                    waypointNamespace));
            b.destinationIp(ip(dst, "ip", "destination.ip"));
            b.port(port(dst));
        }

        String method = string(root, "method", "method");
        b.http(method, string(root, "host", "host"), string(root, "path", "path"));
        b.headers(headers(root));
        b.sni(string(root, "sni", "sni"));

        var jwt = object(root, "jwt");
        boolean invalid = bool(root, "jwtInvalid");
        if (invalid) {
            b.token(new Token.Invalid("the request says jwtInvalid"));
        } else if (jwt != null) {
            unknown(jwt, JWT, "jwt.");
            b.token(token(jwt));
        }

        String ext = string(root, "extAuthz", "extAuthz");
        if (ext != null) {
            try {
                b.extAuthz(AccessRequest.ExtAuthzAnswer.valueOf(ext.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new RequestParseException("extAuthz: is \"" + ext + "\" (expected: ALLOW or DENY)");
            }
        }
        String time = string(root, "time", "time");
        if (time != null) {
            try {
                b.time(Instant.parse(time));
            } catch (DateTimeParseException e) {
                throw new RequestParseException(
                        "time: is \"" + time + "\" (expected: an RFC 3339 instant such as 2026-11-21T09:30:00Z)");
            }
        }

        boolean l7 = layer(
                root,
                method != null
                        || root.has("path")
                        || root.has("host")
                        || root.has("sni")
                        || root.has("headers")
                        || jwt != null
                        || invalid
                        || ext != null);
        return new Parsed(l7, b.build());
    }

    private boolean layer(JsonNode root, boolean looksHttp) throws RequestParseException {
        String layer = string(root, "layer", "layer");
        if (layer == null) {
            return looksHttp;
        }
        return switch (layer.toUpperCase(Locale.ROOT)) {
            case "L4" -> false;
            case "L7" -> true;
            default -> throw new RequestParseException("layer: is \"" + layer + "\" (expected: L4 or L7)");
        };
    }

    private Token token(JsonNode jwt) throws RequestParseException {
        Map<String, Object> claims = new LinkedHashMap<>();
        var c = object(jwt, "claims");
        if (c != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = json.convertValue(c, Map.class);
            claims.putAll(m);
        }
        String issuer = string(jwt, "issuer", "jwt.issuer");
        String subject = string(jwt, "subject", "jwt.subject");
        String presenter = string(jwt, "presenter", "jwt.presenter");
        List<String> audiences = stringOrList(jwt.get("audiences"), "jwt.audiences");
        // The token's payload is what authorization sees as claims; fill both ways.
        issuer = issuer != null ? issuer : claims.get("iss") instanceof String s ? s : null;
        subject = subject != null ? subject : claims.get("sub") instanceof String s ? s : null;
        presenter = presenter != null ? presenter : claims.get("azp") instanceof String s ? s : null;
        if (audiences.isEmpty() && claims.containsKey("aud")) {
            audiences = stringOrList(json.valueToTree(claims.get("aud")), "jwt.claims.aud");
        }
        if (issuer == null) {
            throw new RequestParseException("jwt.issuer: is missing (expected: the token's iss)");
        }
        claims.putIfAbsent("iss", issuer);
        if (subject != null) {
            claims.putIfAbsent("sub", subject);
        }
        if (!audiences.isEmpty()) {
            claims.putIfAbsent("aud", audiences.size() == 1 ? audiences.getFirst() : audiences);
        }
        if (presenter != null) {
            claims.putIfAbsent("azp", presenter);
        }
        return new Token.Verified(issuer, subject, audiences, presenter, claims);
    }

    private Map<String, List<String>> headers(JsonNode root) throws RequestParseException {
        var h = object(root, "headers");
        if (h == null) {
            return Map.of();
        }
        var out = new LinkedHashMap<String, List<String>>();
        for (var e : h.properties()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            var values = stringOrList(e.getValue(), "headers." + e.getKey());
            out.computeIfAbsent(name, k -> new ArrayList<>()).addAll(values);
        }
        return out;
    }

    private static List<String> stringOrList(JsonNode n, String field) throws RequestParseException {
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (n.isTextual()) {
            return List.of(n.asText());
        }
        if (n.isArray()) {
            var out = new ArrayList<String>();
            for (var e : n) {
                if (!e.isTextual()) {
                    throw new RequestParseException(field + ": expected strings in the list, found "
                            + e.getNodeType().name().toLowerCase(Locale.ROOT));
                }
                out.add(e.asText());
            }
            return out;
        }
        throw new RequestParseException(field + ": expected a string or a list of strings");
    }

    private static int port(JsonNode dst) throws RequestParseException {
        var n = dst.get("port");
        if (n == null || n.isNull()) {
            return -1;
        }
        int p;
        if (n.isInt()) {
            p = n.asInt();
        } else if (n.isTextual() && n.asText().matches("[0-9]{1,5}")) {
            p = Integer.parseInt(n.asText());
        } else {
            throw new RequestParseException("destination.port: is " + n + " (expected: an integer 0..65535)");
        }
        if (p < 0 || p > 65535) {
            throw new RequestParseException("destination.port: is " + p + " (expected: an integer 0..65535)");
        }
        return p;
    }

    private static String ip(JsonNode o, String key, String field) throws RequestParseException {
        String s = string(o, key, field);
        if (s != null && IpAddress.tryParse(s).isEmpty()) {
            throw new RequestParseException(
                    field + ": \"" + s + "\" is not an IP address (expected: IPv4 like 10.0.0.1 or IPv6 like fd00::1)");
        }
        return s;
    }

    private static JsonNode object(JsonNode o, String key) throws RequestParseException {
        var n = o.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new RequestParseException(key + ": expected an object");
        }
        return n;
    }

    private static String string(JsonNode o, String key, String field) throws RequestParseException {
        var n = o.get(key);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new RequestParseException(field + ": is " + n + " (expected: a string)");
        }
        return n.asText();
    }

    private static boolean bool(JsonNode o, String key) throws RequestParseException {
        var n = o.get(key);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new RequestParseException(key + ": is " + n + " (expected: true or false)");
        }
        return n.asBoolean();
    }

    private void unknown(JsonNode o, Set<String> known, String prefix) {
        o.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) {
                unknownFields.add(prefix + f);
            }
        });
    }
}
