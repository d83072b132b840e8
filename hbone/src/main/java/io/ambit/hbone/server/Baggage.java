package io.ambit.hbone.server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed W3C {@code baggage} header: comma-separated {@code key=value} members, values percent-encoded,
 * member properties after {@code ;} ignored. HBONE clients describe the source workload with it
 * ({@code k8s.namespace.name}, {@code service.name}, ...). Untrusted input: bounded (8192 characters, 180
 * members, as the W3C limits), and malformed members are skipped rather than failing the whole header.
 *
 * @param entries the members in order; the first of repeated keys wins
 */
public record Baggage(Map<String, String> entries) {
    /** No baggage. */
    public static final Baggage EMPTY = new Baggage(Map.of());

    private static final int MAX_LENGTH = 8192;
    private static final int MAX_MEMBERS = 180;

    public Baggage {
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** Parses a header value; {@link #EMPTY} when absent or too large. */
    public static Baggage parse(CharSequence header) {
        if (header == null || header.length() > MAX_LENGTH) {
            return EMPTY;
        }
        Map<String, String> out = new LinkedHashMap<>();
        int members = 0;
        for (String member : header.toString().split(",", -1)) {
            if (++members > MAX_MEMBERS) {
                break;
            }
            int semi = member.indexOf(';');
            String kv = semi >= 0 ? member.substring(0, semi) : member;
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = trimOws(kv.substring(0, eq));
            if (!isToken(key)) {
                continue;
            }
            decode(trimOws(kv.substring(eq + 1))).ifPresent(v -> out.putIfAbsent(key, v));
        }
        return out.isEmpty() ? EMPTY : new Baggage(out);
    }

    /** The value of {@code key}. */
    public Optional<String> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** The header value: members joined by commas, values percent-encoded where needed. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(e.getKey()).append('=');
            for (byte b : e.getValue().getBytes(StandardCharsets.UTF_8)) {
                int c = b & 0xff;
                if (c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%') {
                    sb.append((char) c);
                } else {
                    sb.append('%')
                            .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
                }
            }
        }
        return sb.toString();
    }

    private static Optional<String> decode(String value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 2 >= value.length()) {
                    return Optional.empty();
                }
                int hi = hexDigit(value.charAt(i + 1));
                int lo = hexDigit(value.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') {
                return Optional.empty();
            } else {
                bytes.write(c);
            }
        }
        String decoded = bytes.toString(StandardCharsets.UTF_8);
        for (int i = 0; i < decoded.length(); i++) {
            if (Character.isISOControl(decoded.charAt(i))) {
                return Optional.empty();
            }
        }
        return Optional.of(decoded);
    }

    // W3C optional whitespace is spaces and tabs only; String.strip() would also drop Unicode spaces, so a
    // key sent as "\u2003k" would be read as "k".
    private static String trimOws(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }

    // ASCII hex only: Character.digit also reads Arabic-Indic and full-width digits, so "%\u0663\u0663" would
    // decode to "3" although baggage values are ASCII (found by BaggageFuzzTest).
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
