package io.ambit.waypoint.jwt;

import io.ambit.policy.crd.JwtRule;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where the rules look for tokens, and how a token is found and removed there (Envoy's jwt_authn
 * extractor): {@code fromHeaders} (value after {@code prefix}), {@code fromParams}, {@code fromCookies};
 * a rule with none of them uses {@code Authorization: Bearer} and the {@code access_token} parameter.
 * Each location remembers which issuers configured it: a token found there with another issuer is
 * "Jwt issuer is not configured".
 */
final class TokenLocations {
    enum Kind {
        HEADER,
        PARAM,
        COOKIE
    }

    /** One place a token may be; {@code name} is lower-case for headers, as written for params and cookies. */
    record Location(Kind kind, String name, String prefix) {}

    /** A token found at a location. */
    record Found(String token, Location location) {}

    static final String DEFAULT_HEADER = "authorization";
    static final String DEFAULT_PREFIX = "Bearer ";
    static final String DEFAULT_PARAM = "access_token";

    private static final Comparator<Location> ORDER =
            Comparator.comparing(Location::kind).thenComparing(Location::name).thenComparing(Location::prefix);

    /** Location to the issuers that configured it, in Envoy's extraction order (headers, params, cookies). */
    private final TreeMap<Location, Set<String>> issuers = new TreeMap<>(ORDER);

    TokenLocations(List<JwtRule> rules) {
        for (var rule : rules) {
            for (var l : of(rule)) {
                issuers.computeIfAbsent(l, k -> new LinkedHashSet<>()).add(rule.issuer());
            }
        }
    }

    /** The locations one rule reads. */
    static List<Location> of(JwtRule rule) {
        var out = new ArrayList<Location>();
        for (var h : rule.fromHeaders()) {
            out.add(new Location(Kind.HEADER, h.name().toLowerCase(Locale.ROOT), h.prefix() == null ? "" : h.prefix()));
        }
        for (var p : rule.fromParams()) {
            out.add(new Location(Kind.PARAM, p, ""));
        }
        for (var c : rule.fromCookies()) {
            out.add(new Location(Kind.COOKIE, c, ""));
        }
        if (out.isEmpty()) {
            out.add(new Location(Kind.HEADER, DEFAULT_HEADER, DEFAULT_PREFIX));
            out.add(new Location(Kind.PARAM, DEFAULT_PARAM, ""));
        }
        return out;
    }

    /** Whether a token found at {@code l} may carry issuer {@code iss}. */
    boolean allows(Location l, String iss) {
        var s = issuers.get(l);
        return s != null && s.contains(iss);
    }

    /**
     * Every token at every location, at most {@code max + 1} (so that the caller can tell "too many").
     * Every value of a repeated header is a token of its own, as in Envoy.
     */
    List<Found> extract(JwtRequest r, int max) {
        var out = new ArrayList<Found>();
        String query = null;
        for (var e : issuers.keySet()) {
            if (out.size() > max) {
                break;
            }
            switch (e.kind()) {
                case HEADER -> {
                    for (String v : r.header(e.name())) {
                        String t = afterPrefix(v, e.prefix());
                        if (t != null) {
                            out.add(new Found(t, e));
                        }
                    }
                }
                case PARAM -> {
                    if (query == null) {
                        query = query(r.path());
                    }
                    String t = firstParam(query, e.name());
                    if (t != null) {
                        out.add(new Found(t, e));
                    }
                }
                case COOKIE -> {
                    for (String v : r.header("cookie")) {
                        String t = cookie(v, e.name());
                        if (t != null) {
                            out.add(new Found(t, e));
                            break;
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The token after the prefix, or null when the value does not contain it. Like Envoy the prefix may
     * appear anywhere in the value and the token starts at the next base64url character; unlike Envoy the
     * prefix is matched case-insensitively ({@code bearer x} is a token too, RFC 6750), so a token that
     * would slip past as "no token" is judged instead.
     */
    static String afterPrefix(String value, String prefix) {
        if (prefix.isEmpty()) {
            return value;
        }
        int at = indexOfIgnoreCase(value, prefix);
        if (at < 0) {
            return null;
        }
        for (int i = at + prefix.length(); i < value.length(); i++) {
            if (isTokenChar(value.charAt(i))) {
                return value.substring(i);
            }
        }
        return value; // Envoy's fallback: the whole value, which then fails to parse
    }

    private static int indexOfIgnoreCase(String s, String p) {
        for (int i = 0; i + p.length() <= s.length(); i++) {
            if (s.regionMatches(true, i, p, 0, p.length())) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'A' && c <= 'Z')
                || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '_'
                || c == '.';
    }

    /** The raw query of a request target (after {@code ?}, before {@code #}), or "". */
    static String query(String path) {
        if (path == null) {
            return "";
        }
        int q = path.indexOf('?');
        if (q < 0) {
            return "";
        }
        int h = path.indexOf('#', q);
        return h < 0 ? path.substring(q + 1) : path.substring(q + 1, h);
    }

    /** The first value of a parameter, percent-decoded, or null. */
    static String firstParam(String query, String name) {
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (k.equals(name)) {
                return decode(eq < 0 ? "" : pair.substring(eq + 1));
            }
        }
        return null;
    }

    /** The request target without every occurrence of parameter {@code name}; other pairs stay as sent. */
    static String withoutParam(String path, String name) {
        int q = path.indexOf('?');
        if (q < 0) {
            return path;
        }
        int h = path.indexOf('#', q);
        String fragment = h < 0 ? "" : path.substring(h);
        String query = h < 0 ? path.substring(q + 1) : path.substring(q + 1, h);
        var kept = new StringBuilder();
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            if (decode(eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                continue;
            }
            if (!kept.isEmpty()) {
                kept.append('&');
            }
            kept.append(pair);
        }
        return path.substring(0, q) + (kept.isEmpty() ? "" : "?" + kept) + fragment;
    }

    /** The value of cookie {@code name} in one {@code Cookie} header value (quotes removed), or null. */
    static String cookie(String header, String name) {
        for (String part : header.split(";", -1)) {
            String p = part.strip();
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).strip().equals(name)) {
                String v = p.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                return v;
            }
        }
        return null;
    }

    /** One {@code Cookie} header value without cookie {@code name}; empty when nothing is left. */
    static String withoutCookie(String header, String name) {
        var kept = new ArrayList<String>();
        for (String part : header.split(";", -1)) {
            String p = part.strip();
            int eq = p.indexOf('=');
            if (p.isEmpty() || (eq > 0 && p.substring(0, eq).strip().equals(name))) {
                continue;
            }
            kept.add(p);
        }
        return String.join("; ", kept);
    }

    /** Percent-decoding as UTF-8; a malformed escape is kept as written. */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        var out = new ByteArrayOutputStream(in.length);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length) {
                int hi = Character.digit(in[i + 1], 16);
                int lo = Character.digit(in[i + 2], 16);
                if (hi >= 0 && lo >= 0) {
                    out.write(hi * 16 + lo);
                    i += 2;
                    continue;
                }
            }
            out.write(in[i]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
