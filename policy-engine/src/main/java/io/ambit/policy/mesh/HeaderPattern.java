package io.ambit.policy.mesh;

import java.util.Locale;

/**
 * A header-name pattern of an ext_authz provider's header lists ({@code includeRequestHeadersInCheck},
 * {@code headersToUpstreamOnAllow}, ...), as Istio translates them for Envoy: {@code "abc"} exact,
 * {@code "abc*"} prefix, {@code "*abc"} suffix, always case-insensitive. A lone {@code "*"} is refused
 * (Istio: "change it to either prefix or suffix match").
 *
 * @param kind how {@code text} is compared
 * @param text the pattern without its {@code *}, lower-case
 */
public record HeaderPattern(Kind kind, String text) {
    /** How a pattern compares. */
    public enum Kind {
        EXACT,
        PREFIX,
        SUFFIX
    }

    /**
     * Parses one list entry.
     *
     * @throws IllegalArgumentException naming the value and what was expected
     */
    public static HeaderPattern parse(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("is empty (expected: a header name, or a prefix* or *suffix pattern)");
        }
        if (value.equals("*")) {
            throw new IllegalArgumentException("is \"*\", a single wildcard, which Istio does not support "
                    + "(expected: a header name, or a prefix* or *suffix pattern)");
        }
        String v = value.toLowerCase(Locale.ROOT);
        HeaderPattern p;
        if (v.startsWith("*")) {
            p = new HeaderPattern(Kind.SUFFIX, v.substring(1));
        } else if (v.endsWith("*")) {
            p = new HeaderPattern(Kind.PREFIX, v.substring(0, v.length() - 1));
        } else {
            p = new HeaderPattern(Kind.EXACT, v);
        }
        for (int i = 0; i < p.text.length(); i++) {
            char c = p.text.charAt(i);
            if (c <= ' ' || c >= 0x7f || "\"(),/;<=>?@[\\]{}".indexOf(c) >= 0) {
                throw new IllegalArgumentException("is \"" + value + "\", which has a character that cannot be in a "
                        + "header name (expected: a header name, or a prefix* or *suffix pattern)");
            }
        }
        return p;
    }

    /** Whether a header name (any case) matches. */
    public boolean matches(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return switch (kind) {
            case EXACT -> n.equals(text);
            case PREFIX -> n.startsWith(text);
            case SUFFIX -> n.endsWith(text);
        };
    }

    /** The pattern as written (lower-case). */
    @Override
    public String toString() {
        return switch (kind) {
            case EXACT -> text;
            case PREFIX -> text + "*";
            case SUFFIX -> "*" + text;
        };
    }
}
