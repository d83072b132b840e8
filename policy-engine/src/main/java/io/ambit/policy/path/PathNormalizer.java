package io.ambit.policy.path;

import java.util.BitSet;
import java.util.Objects;

/**
 * Turns a request's {@code :path} into the path that authorization policies match (authz-semantics §2.8),
 * reproducing what Istio configures Envoy to do: {@code path_with_escaped_slashes_action}, then
 * {@code normalize_path}, then {@code merge_slashes}, on the path with its query and fragment removed.
 *
 * <p>Every step is a single forward pass over the string (no regular expressions, no recursion), so the
 * cost is linear in the length of the path whatever a client sends. Decoding happens exactly once: a
 * decoded character is never {@code %}, so it cannot start a new escape ({@code %252E} stays
 * {@code %252E}). It can still complete one that a stray {@code %} starts ({@code %%32%45} would read
 * {@code %2E}): such a path is refused, because a backend that decodes what we forward would see a
 * different path from the one the policies matched, and normalizing the result again would change it.
 */
public final class PathNormalizer {
    private PathNormalizer() {}

    /**
     * Returns the path used for authorization matching.
     *
     * <ul>
     *   <li>Always: the query ({@code ?...}) and fragment ({@code #...}) are removed; a path containing
     *       {@code %00}, a NUL or another control character is rejected, whatever the mode.
     *   <li>{@link PathNormalization#NONE}, or a path that does not start with {@code /} (asterisk- or
     *       absolute-form targets that the HTTP layer deals with): nothing more.
     *   <li>{@link PathNormalization#DECODE_AND_MERGE_SLASHES}: {@code %2F} and {@code %5C} (any hex case)
     *       become {@code /} first.
     *   <li>{@link PathNormalization#BASE} and above: {@code \} becomes {@code /}; escapes of unreserved
     *       characters ({@code %2D %2E %30-%39 %41-%5A %5F %61-%7A %7E}, any hex case) are decoded once;
     *       other escapes, malformed ones ({@code %zz}, a trailing {@code %4}) included, are kept exactly
     *       as sent; then RFC 3986 §5.2.4 dot segments are removed. Empty segments ({@code //}) stay.
     *   <li>{@link PathNormalization#MERGE_SLASHES} and above: then each run of {@code /} becomes one.
     * </ul>
     *
     * @throws InvalidPathException if the path contains {@code %00} or a control character, or decoding would
     *     assemble a new escape (answer 400)
     */
    public static String normalize(String rawPath, PathNormalization mode) {
        Objects.requireNonNull(rawPath, "rawPath");
        Objects.requireNonNull(mode, "mode");
        String path = stripQuery(rawPath);
        rejectNul(path);
        if (mode == PathNormalization.NONE || path.isEmpty()) {
            return path;
        }
        String decoded = decode(path, mode == PathNormalization.DECODE_AND_MERGE_SLASHES);
        if (decoded.isEmpty() || decoded.charAt(0) != '/') {
            // Not origin-form even after backslashes (and, when asked, %2F/%5C) became '/': the caller
            // rejects it. Returning the raw text keeps "\admin" from posing as a normalized "/admin".
            return path;
        }
        path = decoded;
        path = removeDotSegments(path);
        // Merging comes after dot-segment removal, as in Envoy: "/a//.." is "/a/" under MERGE_SLASHES,
        // not "/" (which merging first would give).
        return mode == PathNormalization.BASE ? path : mergeSlashes(path);
    }

    /** Returns {@code raw} up to (not including) the first {@code ?} or {@code #}. */
    public static String stripQuery(String raw) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '?' || c == '#') {
                return raw.substring(0, i);
            }
        }
        return raw;
    }

    // Envoy's canonicalizer fails on an escaped NUL anywhere in the path, so the request is answered 400
    // and never reaches a policy. We check it for every mode: a NUL that a backend may treat as a string
    // terminator is a bypass waiting to happen even when the operator asked for no normalization. A raw NUL
    // never gets past Envoy's codec, so it is refused here too. Checked on the raw text, before decoding:
    // "%%00" contains an escaped NUL (the first % is a stray one), "%2500" does not.
    private static void rejectNul(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\0') {
                throw new InvalidPathException("path contains a NUL character; rejected with 400");
            }
            if (c < 0x20 || c == 0x7f) {
                // No HTTP codec lets a control character into a request target (RFC 9112 §3.2); one that
                // got here would be matched by policies and forwarded as is, and backends trim or split on
                // them differently (found by Http1DecoderFuzzTest: Netty passed "/a\u001b" through).
                throw new InvalidPathException(
                        String.format("path contains the control character 0x%02x; rejected with 400", (int) c));
            }
            if (c == '%' && i + 2 < path.length() && path.charAt(i + 1) == '0' && path.charAt(i + 2) == '0') {
                throw new InvalidPathException("path contains %00 (a NUL byte); rejected with 400");
            }
        }
    }

    /**
     * One pass: backslash to slash, decode the unreserved escapes and, when {@code decodeSlashes}, also
     * {@code %2F}/{@code %5C} to {@code /}. Doing Envoy's two decoding steps in one pass gives the same
     * result because neither step can produce a {@code %}.
     */
    static String decode(String path, boolean decodeSlashes) {
        if (path.indexOf('%') < 0 && path.indexOf('\\') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        BitSet decodedAt = null; // output positions that came from an escape, for rejectAssembledEscapes
        int n = path.length();
        int i = 0;
        while (i < n) {
            char c = path.charAt(i);
            if (c == '\\') {
                out.append('/');
                i++;
                continue;
            }
            if (c == '%' && i + 2 < n) {
                int hi = hexValue(path.charAt(i + 1));
                int lo = hexValue(path.charAt(i + 2));
                if (hi >= 0 && lo >= 0) {
                    char decoded = (char) (hi << 4 | lo);
                    if (isUnreserved(decoded)) {
                        if (decodedAt == null) {
                            decodedAt = new BitSet();
                        }
                        decodedAt.set(out.length());
                        out.append(decoded);
                        i += 3;
                        continue;
                    }
                    if (decodeSlashes && (decoded == '/' || decoded == '\\')) {
                        // %5C ends up as "/" as well: Envoy decodes it to "\", which normalize_path then
                        // turns into "/".
                        out.append('/');
                        i += 3;
                        continue;
                    }
                }
            }
            // Anything else, including a kept or malformed escape, is copied unchanged: Envoy keeps the
            // original hex case of escapes it does not decode.
            out.append(c);
            i++;
        }
        if (decodedAt != null) {
            rejectAssembledEscapes(out, decodedAt);
        }
        return out.toString();
    }

    /**
     * Refuses an output in which a {@code %} the client sent and a character we decoded now read as an
     * escape ({@code %%32%45} as {@code %2E}, {@code %%300} as {@code %00}): a second decoder downstream
     * would turn it into a dot, a slash or a NUL that no policy saw. A clean path never has this shape.
     * Only decoded unreserved characters can be hex digits, so only those positions are checked.
     */
    private static void rejectAssembledEscapes(CharSequence out, BitSet decodedAt) {
        for (int k = out.length() - 3; k >= 0; k--) {
            if (out.charAt(k) == '%'
                    && hexValue(out.charAt(k + 1)) >= 0
                    && hexValue(out.charAt(k + 2)) >= 0
                    && (decodedAt.get(k + 1) || decodedAt.get(k + 2))) {
                throw new InvalidPathException("path contains \"" + out.subSequence(k, k + 3)
                        + "\" assembled from a '%' and decoded characters (double encoding); rejected with 400");
            }
        }
    }

    /**
     * RFC 3986 §5.2.4 for a path that starts with {@code /}, one segment at a time. A {@code ..} drops the
     * last output segment by cutting back to the previous {@code /}; each character is appended and
     * removed at most once, so this stays linear even for {@code /a/a/a/../../..}.
     */
    static String removeDotSegments(String path) {
        if (!path.contains("/.")) {
            return path;
        }
        int n = path.length();
        StringBuilder out = new StringBuilder(n);
        int i = 0; // always at a '/' that starts the next segment
        while (i < n) {
            int start = i + 1;
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = n;
            }
            boolean last = end == n;
            int length = end - start;
            boolean dot = length == 1 && path.charAt(start) == '.';
            boolean dotDot = length == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.';
            if (dotDot) {
                int cut = out.length() - 1;
                while (cut >= 0 && out.charAt(cut) != '/') {
                    cut--;
                }
                out.setLength(Math.max(cut, 0));
            }
            if (dot || dotDot) {
                // A trailing "/." or "/.." still names a directory: "/a/b/.." is "/a/", "/.." is "/".
                if (last) {
                    out.append('/');
                }
            } else {
                out.append(path, i, end);
            }
            i = end;
        }
        return out.toString();
    }

    static String mergeSlashes(String path) {
        if (!path.contains("//")) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        char previous = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c != '/' || previous != '/') {
                out.append(c);
            }
            previous = c;
        }
        return out.toString();
    }

    // RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~".
    private static boolean isUnreserved(char c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '.'
                || c == '_'
                || c == '~';
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }
}
