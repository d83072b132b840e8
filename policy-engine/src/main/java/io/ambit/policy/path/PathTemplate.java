package io.ambit.policy.path;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An Envoy URI template as Istio uses it in {@code paths}/{@code notPaths} (authz-semantics §2.8):
 * {@code {*}} matches exactly one non-empty segment (no {@code /}); {@code {**}} matches any, possibly
 * empty, run of characters including {@code /} and may only be the last operator; everything else is a
 * literal that must match exactly, case-sensitively. Each operator is a whole {@code /}-delimited segment.
 *
 * <p>So {@code /allow/admin/{**}} matches {@code /allow/admin/} and {@code /allow/admin/a/b} but not
 * {@code /allow/admin}; {@code /store/{**}/cart} matches {@code /store//cart} but not {@code /store/cart}.
 *
 * <p>Matching needs no regular expression and never backtracks: because an operator fills a whole
 * segment, {@code {*}} always ends at the next {@code /} or at the end, and after {@code {**}} only a
 * literal can follow, which must be a suffix of the path. One pass, linear in the path length.
 * Instances are immutable and safe to share.
 */
public final class PathTemplate {
    private static final String ONE_SEGMENT = "{*}";
    private static final String ANY = "{**}";

    private final String pattern;
    // The template before {**} (all of it when there is none): literal text, and null for each {*}.
    private final String[] head;
    private final boolean hasAny;
    // The literal after {**}; empty when {**} ends the template. Unused when !hasAny.
    private final String tail;

    private PathTemplate(String pattern, List<String> head, boolean hasAny, String tail) {
        this.pattern = pattern;
        this.head = head.toArray(String[]::new);
        this.hasAny = hasAny;
        this.tail = tail;
    }

    /**
     * Whether {@code pattern} is to be read as a URI template rather than a §2.4 exact/prefix/suffix value:
     * it contains {@code {*}}, {@code {**}} or any other {@code {} or {@code }}. A stray brace makes it a
     * (malformed) template so that {@link #validate} reports it instead of it silently becoming a literal.
     */
    public static boolean isTemplate(String pattern) {
        return pattern.indexOf('{') >= 0 || pattern.indexOf('}') >= 0;
    }

    /**
     * Checks a template the way Istio's validation does; returns why it is invalid, or empty if it is
     * valid. A pattern without any brace is valid (it compiles to an exact match).
     */
    public static Optional<String> validate(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        boolean seenAny = false;
        int start = 0;
        while (start <= pattern.length()) {
            int end = segmentEnd(pattern, start);
            String segment = pattern.substring(start, end);
            boolean one = segment.equals(ONE_SEGMENT);
            boolean any = segment.equals(ANY);
            if ((one || any) && seenAny) {
                return Optional.of("path template " + quote(pattern)
                        + ": {**} is not the last operator (expected: no {*} or {**} after {**})");
            }
            if (any) {
                seenAny = true;
            } else if (!one && (segment.indexOf('{') >= 0 || segment.indexOf('}') >= 0)) {
                if (segment.contains(ONE_SEGMENT) || segment.contains(ANY)) {
                    return Optional.of("path template " + quote(pattern) + ": segment " + quote(segment)
                            + " mixes an operator with other characters"
                            + " (expected: {*} or {**} as a whole /-delimited segment)");
                }
                return Optional.of("path template " + quote(pattern) + ": segment " + quote(segment)
                        + " contains '{' or '}' outside {*} and {**}");
            }
            start = end + 1;
        }
        return pattern.contains(ONE_SEGMENT) || pattern.contains(ANY) ? invalidLiteral(pattern) : Optional.empty();
    }

    /**
     * Istio also requires every literal segment of a template to be a non-empty run of RFC 3986 pchar
     * characters other than {@code *} (what Envoy's URI template matcher accepts).
     */
    private static Optional<String> invalidLiteral(String pattern) {
        int from = 0;
        int to = pattern.length();
        while (from < to && pattern.charAt(from) == '/') {
            from++;
        }
        while (to > from && pattern.charAt(to - 1) == '/') {
            to--;
        }
        for (String glob : pattern.substring(from, to).split("/", -1)) {
            if (glob.equals(ONE_SEGMENT) || glob.equals(ANY)) {
                continue;
            }
            boolean ok = !glob.isEmpty();
            for (int i = 0; ok && i < glob.length(); i++) {
                char c = glob.charAt(i);
                ok = (c >= 'a' && c <= 'z')
                        || (c >= 'A' && c <= 'Z')
                        || (c >= '0' && c <= '9')
                        || "-._~%!$&'()+,;:@=".indexOf(c) >= 0;
            }
            if (!ok) {
                return Optional.of(
                        "path template " + quote(pattern) + ": segment " + quote(glob)
                                + " is not a valid literal (expected: a non-empty run of letters, digits and -._~%!$&'()+,;:@=)");
            }
        }
        return Optional.empty();
    }

    /**
     * Compiles a template; see {@link #validate} for what is rejected.
     *
     * @throws IllegalArgumentException with the {@link #validate} message if the template is invalid
     */
    public static PathTemplate compile(String pattern) {
        Optional<String> error = validate(pattern);
        if (error.isPresent()) {
            throw new IllegalArgumentException(error.get());
        }
        List<String> head = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        boolean seenAny = false;
        int start = 0;
        while (start <= pattern.length()) {
            int end = segmentEnd(pattern, start);
            if (start > 0) {
                literal.append('/'); // the separator before this segment belongs to the literal text
            }
            String segment = pattern.substring(start, end);
            if (!seenAny && segment.equals(ONE_SEGMENT)) {
                flush(literal, head);
                head.add(null); // {*}
            } else if (!seenAny && segment.equals(ANY)) {
                flush(literal, head);
                seenAny = true;
            } else {
                literal.append(segment);
            }
            start = end + 1;
        }
        if (!seenAny) {
            flush(literal, head);
        }
        return new PathTemplate(pattern, head, seenAny, seenAny ? literal.toString() : "");
    }

    /** Whether the (already normalized, query-free) path matches this template. */
    public boolean matches(String normalizedPath) {
        String path = Objects.requireNonNull(normalizedPath, "normalizedPath");
        int pos = 0;
        for (String part : head) {
            if (part == null) { // {*}
                int end = segmentEnd(path, pos);
                if (end == pos) {
                    return false; // {*} needs at least one character
                }
                pos = end;
            } else {
                if (!path.startsWith(part, pos)) {
                    return false;
                }
                pos += part.length();
            }
        }
        if (!hasAny) {
            return pos == path.length();
        }
        // {**} takes whatever lies between the head and the literal tail, possibly nothing.
        return path.length() - pos >= tail.length() && path.endsWith(tail);
    }

    /** The template as written in the policy. */
    public String pattern() {
        return pattern;
    }

    @Override
    public String toString() {
        return pattern;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PathTemplate that && pattern.equals(that.pattern);
    }

    @Override
    public int hashCode() {
        return pattern.hashCode();
    }

    private static int segmentEnd(String s, int from) {
        int slash = s.indexOf('/', from);
        return slash < 0 ? s.length() : slash;
    }

    private static void flush(StringBuilder literal, List<String> head) {
        if (!literal.isEmpty()) {
            head.add(literal.toString());
            literal.setLength(0);
        }
    }

    private static String quote(String s) {
        return '"' + s + '"';
    }
}
