package io.ambit.hbone.identity;

/**
 * A workload identity, {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}, parsed
 * strictly: exactly those five path segments with the literals {@code ns} and {@code sa}, no empty
 * segment, no percent-encoding, no control characters. Compared exactly (records compare all parts).
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {
    private static final String SCHEME = "spiffe://";

    public SpiffeId {
        check(trustDomain, "trust domain");
        check(namespace, "namespace");
        check(serviceAccount, "service account");
    }

    /**
     * Parses a SPIFFE URI.
     *
     * @throws IllegalArgumentException naming the text and the expected form
     */
    public static SpiffeId parse(String uri) {
        if (uri == null || !uri.startsWith(SCHEME)) {
            throw bad(uri, "it does not start with spiffe://");
        }
        String[] parts = uri.substring(SCHEME.length()).split("/", -1);
        if (parts.length != 5 || !parts[1].equals("ns") || !parts[3].equals("sa")) {
            throw bad(uri, "the path is not /ns/<namespace>/sa/<service-account>");
        }
        try {
            return new SpiffeId(parts[0], parts[2], parts[4]);
        } catch (IllegalArgumentException e) {
            throw bad(uri, e.getMessage());
        }
    }

    /** The principal as authorization policies see it: the URI without {@code spiffe://}. */
    public String principal() {
        return trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
    }

    @Override
    public String toString() {
        return SCHEME + principal();
    }

    private static void check(String part, String what) {
        if (part == null || part.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.'
                    || c == '_';
            if (!ok) {
                throw new IllegalArgumentException(what + " \"" + printable(part) + "\" contains "
                        + (c < 0x20 || c == 0x7f ? "a control character" : "'" + c + "'")
                        + " (expected letters, digits, '-', '.', '_')");
            }
        }
    }

    private static IllegalArgumentException bad(String uri, String why) {
        return new IllegalArgumentException("\"" + printable(uri) + "\" is not a workload SPIFFE id: " + why
                + " (expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>)");
    }

    private static String printable(String s) {
        if (s == null) {
            return "null";
        }
        var sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 120; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return sb.toString();
    }
}
