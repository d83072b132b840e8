package io.ambit.policy.engine;

import java.util.List;

/**
 * {@code requestPrincipals} and {@code request.auth.principal} (authz-semantics §2.6a), as istiod builds
 * them: the {@code *} at the start or end of the whole pattern picks the match type first (a leading
 * {@code *} wins), then the pattern is split at its last {@code /} into an issuer half and a subject half.
 * The half that carries the {@code *} is a suffix or prefix match; the other half is exact, so a
 * {@code *} inside it is a literal. Patterns without {@code /} constrain one half and require the other
 * to be present.
 */
final class RequestPrincipalMatcher {
    /** One compiled pattern: a match per half; null text means "present" (non-empty). */
    private record Pattern(Kind issKind, String iss, Kind subKind, String sub) {
        boolean matches(String tokenIss, String tokenSub) {
            return issKind.test(tokenIss, iss) && subKind.test(tokenSub, sub);
        }
    }

    private enum Kind {
        PRESENT,
        EXACT,
        PREFIX,
        SUFFIX,
        NEVER;

        boolean test(String value, String text) {
            if (value == null || value.isEmpty()) {
                return false;
            }
            return switch (this) {
                case PRESENT -> true;
                case EXACT -> value.equals(text);
                case PREFIX -> value.startsWith(text);
                case SUFFIX -> value.endsWith(text);
                case NEVER -> false;
            };
        }
    }

    private final Pattern[] patterns;

    RequestPrincipalMatcher(List<String> values) {
        patterns = values.stream().map(RequestPrincipalMatcher::compile).toArray(Pattern[]::new);
    }

    private static Pattern compile(String p) {
        if (p.equals("*")) {
            return new Pattern(Kind.PRESENT, null, Kind.PRESENT, null);
        }
        int slash = p.lastIndexOf('/');
        if (p.startsWith("*")) {
            String rest = p.substring(1);
            if (slash < 0) {
                return new Pattern(Kind.PRESENT, null, suffixOrPresent(rest), rest);
            }
            String iss = p.substring(1, slash);
            return new Pattern(suffixOrPresent(iss), iss, Kind.EXACT, p.substring(slash + 1));
        }
        if (p.endsWith("*")) {
            String rest = p.substring(0, p.length() - 1);
            if (slash < 0) {
                return new Pattern(prefixOrPresent(rest), rest, Kind.PRESENT, null);
            }
            String sub = p.substring(slash + 1, p.length() - 1);
            return new Pattern(Kind.EXACT, p.substring(0, slash), prefixOrPresent(sub), sub);
        }
        if (slash < 0) {
            // "iss/sub" always has a '/', so an exact pattern without one can never match
            return new Pattern(Kind.NEVER, null, Kind.NEVER, null);
        }
        return new Pattern(Kind.EXACT, p.substring(0, slash), Kind.EXACT, p.substring(slash + 1));
    }

    private static Kind suffixOrPresent(String s) {
        return s.isEmpty() ? Kind.PRESENT : Kind.SUFFIX;
    }

    private static Kind prefixOrPresent(String s) {
        return s.isEmpty() ? Kind.PRESENT : Kind.PREFIX;
    }

    boolean matches(EvalContext c) {
        var t = c.auth;
        if (t == null) {
            return false;
        }
        for (Pattern p : patterns) {
            if (p.matches(t.issuer(), t.subject())) {
                return true;
            }
        }
        return false;
    }
}
