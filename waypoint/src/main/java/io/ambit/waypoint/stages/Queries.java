package io.ambit.waypoint.stages;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Query-string changes an authorizer asks for (Envoy's {@code query_parameters_to_set} and
 * {@code query_parameters_to_remove}). Only the query changes: the path that authorization matched is what
 * the upstream gets.
 */
final class Queries {
    private Queries() {}

    /**
     * {@code target} with the parameters named in {@code remove} and {@code set} removed, then each of
     * {@code set} appended, percent-encoded.
     */
    static String edit(String target, List<Map.Entry<String, String>> set, List<String> remove) {
        int q = target.indexOf('?');
        String path = q >= 0 ? target.substring(0, q) : target;
        String query = q >= 0 ? target.substring(q + 1) : "";
        Set<String> drop = new HashSet<>(remove);
        for (var e : set) {
            drop.add(e.getKey());
        }
        List<String> kept = new ArrayList<>();
        if (!query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                int eq = pair.indexOf('=');
                String name = decode(eq >= 0 ? pair.substring(0, eq) : pair);
                if (!drop.contains(name)) {
                    kept.add(pair);
                }
            }
        }
        for (var e : set) {
            kept.add(encode(e.getKey()) + "=" + encode(e.getValue()));
        }
        return kept.isEmpty() ? path : path + "?" + String.join("&", kept);
    }

    /** RFC 3986 unreserved characters stay, everything else is percent-encoded as UTF-8. */
    static String encode(String s) {
        var out = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.'
                    || c == '_'
                    || c == '~') {
                out.append((char) c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** Percent-decoding of a parameter name; a malformed escape is kept as written. */
    static String decode(String s) {
        if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
            return s;
        }
        var bytes = new java.io.ByteArrayOutputStream(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    bytes.write(hi << 4 | lo);
                    i += 3;
                    continue;
                }
            }
            if (c == '+') {
                bytes.write(' ');
                i++;
                continue;
            }
            int cp = s.codePointAt(i);
            byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            bytes.write(utf8, 0, utf8.length);
            i += Character.charCount(cp);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
