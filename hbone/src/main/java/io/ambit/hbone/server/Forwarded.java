package io.ambit.hbone.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code forwarded} header (RFC 7239): elements separated by commas, each a list of
 * {@code name=value} pairs separated by semicolons, values a token or a quoted string. HBONE clients send
 * {@code for="<client ip:port>"} plus {@code ;host=<service hostname>} when the destination is a service.
 * Untrusted input: parsed without regular expressions, bounded, and rejected whole if malformed.
 *
 * @param elements the elements in order, each with lower-case parameter names
 */
public record Forwarded(List<Map<String, String>> elements) {
    private static final int MAX_LENGTH = 8192;
    private static final int MAX_ELEMENTS = 64;

    public Forwarded {
        elements = elements.stream().map(Map::copyOf).toList();
    }

    /** The header for one hop: {@code for="<for>"} and, when given, {@code ;host=<host>}. */
    public static String format(String forAddress, String host) {
        StringBuilder sb = new StringBuilder("for=").append(quote(forAddress));
        if (host != null && !host.isEmpty()) {
            sb.append(";host=").append(isToken(host) ? host : quote(host));
        }
        return sb.toString();
    }

    /** Parses a header value; empty when it is malformed or too large. */
    public static Optional<Forwarded> parse(CharSequence header) {
        if (header == null || header.length() > MAX_LENGTH) {
            return Optional.empty();
        }
        Parser p = new Parser(header.toString());
        try {
            return Optional.of(new Forwarded(p.elements()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The {@code for} parameter of the first element. */
    public Optional<String> forAddress() {
        return first("for");
    }

    /** The {@code host} parameter of the first element. */
    public Optional<String> host() {
        return first("host");
    }

    private Optional<String> first(String name) {
        return elements.isEmpty()
                ? Optional.empty()
                : Optional.ofNullable(elements.getFirst().get(name));
    }

    private static String quote(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').toString();
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        List<Map<String, String>> elements() {
            List<Map<String, String>> out = new ArrayList<>();
            do {
                if (out.size() == MAX_ELEMENTS) {
                    throw new IllegalArgumentException("too many elements");
                }
                out.add(element());
                skipSpace();
            } while (consume(','));
            if (i != s.length()) {
                throw new IllegalArgumentException("unexpected '" + s.charAt(i) + "'");
            }
            return out;
        }

        private Map<String, String> element() {
            Map<String, String> pairs = new LinkedHashMap<>();
            do {
                skipSpace();
                String name = token().toLowerCase(Locale.ROOT);
                if (!consume('=')) {
                    throw new IllegalArgumentException("expected '='");
                }
                String value = i < s.length() && s.charAt(i) == '"' ? quoted() : token();
                if (pairs.putIfAbsent(name, value) != null) {
                    throw new IllegalArgumentException("repeated parameter " + name);
                }
                skipSpace();
            } while (consume(';'));
            return pairs;
        }

        private String token() {
            int start = i;
            while (i < s.length() && isTokenChar(s.charAt(i))) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("expected a token");
            }
            return s.substring(start, i);
        }

        private String quoted() {
            StringBuilder sb = new StringBuilder();
            i++; // opening quote
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    if (i == s.length()) {
                        break;
                    }
                    c = s.charAt(i++);
                }
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    throw new IllegalArgumentException("control character");
                }
                sb.append(c);
            }
            throw new IllegalArgumentException("unterminated quoted string");
        }

        private boolean consume(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void skipSpace() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                i++;
            }
        }
    }
}
