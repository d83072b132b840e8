package io.ambit.waypoint.conformance.attack;

import io.ambit.policy.path.PathNormalization;

/**
 * The test's own reading of a request path under each of Istio's normalizations (authz-semantics §2.8),
 * written independently of the waypoint's normalizer so the two can disagree: query and fragment removed;
 * DECODE_AND_MERGE_SLASHES decodes {@code %2F}/{@code %5C}; BASE and above turn {@code \} into {@code /},
 * decode escapes of unreserved characters once and remove dot segments; MERGE_SLASHES and above merge runs of
 * slashes. Used to check what reached the app: it must never read as {@code /admin}.
 */
final class PathOracle {
    private PathOracle() {}

    /** Whether {@code uri}, read under {@code mode}, is {@code /admin} or below it. */
    static boolean isAdmin(String uri, PathNormalization mode) {
        String p = read(uri, mode);
        return p.equals("/admin") || p.startsWith("/admin/");
    }

    static String read(String uri, PathNormalization mode) {
        String p = uri;
        int cut = indexOfAny(p, "?#");
        if (cut >= 0) {
            p = p.substring(0, cut);
        }
        if (mode == PathNormalization.NONE) {
            return p;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            int v = c == '%' ? hexAt(p, i + 1) : -1;
            if (v >= 0) {
                boolean slash = v == '/' || v == '\\';
                if ((slash && mode == PathNormalization.DECODE_AND_MERGE_SLASHES) || unreserved(v)) {
                    b.append(v == '\\' ? '/' : (char) v);
                    i += 2;
                    continue;
                }
            }
            b.append(c == '\\' ? '/' : c);
        }
        String out = dots(b.toString());
        if (mode != PathNormalization.BASE) {
            out = out.replaceAll("/{2,}", "/");
        }
        return out;
    }

    /** The byte of the two hex digits at {@code i}, or -1 when they are not two hex digits. */
    private static int hexAt(String s, int i) {
        if (i + 1 >= s.length()) {
            return -1;
        }
        int hi = Character.digit(s.charAt(i), 16);
        int lo = Character.digit(s.charAt(i + 1), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static boolean unreserved(int v) {
        return (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') || "-._~".indexOf(v) >= 0;
    }

    /** RFC 3986 §5.2.4 on segments: "." dropped, ".." drops the segment before it. */
    private static String dots(String path) {
        String[] segs = path.split("/", -1);
        java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
        for (int i = 1; i < segs.length; i++) {
            String s = segs[i];
            boolean last = i == segs.length - 1;
            if (s.equals(".")) {
                if (last) {
                    out.addLast("");
                }
            } else if (s.equals("..")) {
                out.pollLast();
                if (last) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        return "/" + String.join("/", out);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }
}
