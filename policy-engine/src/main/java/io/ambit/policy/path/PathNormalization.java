package io.ambit.policy.path;

/**
 * How the request path is normalized before it is matched against {@code paths}/{@code notPaths} and
 * forwarded to the backend: Istio's {@code meshConfig.pathNormalization.normalization}
 * (authz-semantics §2.8). The default is {@link #BASE}.
 *
 * <p>Each mode includes the previous one except {@link #NONE}: {@code BASE} ⊂ {@code MERGE_SLASHES} ⊂
 * {@code DECODE_AND_MERGE_SLASHES}. See {@link PathNormalizer#normalize} for the exact steps.
 */
public enum PathNormalization {
    /** Only the query and fragment are removed; the path is matched as sent. */
    NONE,
    /** RFC 3986 normalization as Envoy's {@code normalize_path}: backslashes, unreserved escapes, dot segments. */
    BASE,
    /** {@link #BASE}, then runs of {@code /} merged into one. */
    MERGE_SLASHES,
    /** {@code %2F} and {@code %5C} decoded to {@code /} first, then {@link #MERGE_SLASHES}. */
    DECODE_AND_MERGE_SLASHES;

    // Istio's proto enum also has DEFAULT (value 0, "currently BASE"); a mesh config that spells it out must
    // load, so it is accepted as an alias rather than as a fifth constant nobody could switch on usefully.
    private static final String DEFAULT_ALIAS = "DEFAULT";

    /**
     * Parses a mesh-config value. Names are case-sensitive, as in Istio's proto enum; {@code DEFAULT} is
     * accepted as an alias for {@link #BASE}.
     *
     * @throws IllegalArgumentException naming the bad value and the accepted ones
     */
    public static PathNormalization parse(String value) {
        if (value != null) {
            if (value.equals(DEFAULT_ALIAS)) {
                return BASE;
            }
            for (PathNormalization mode : values()) {
                if (mode.name().equals(value)) {
                    return mode;
                }
            }
        }
        String shown = value == null ? "null" : '"' + value + '"';
        throw new IllegalArgumentException("pathNormalization: " + shown
                + " (expected: NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES or DEFAULT)");
    }
}
