package io.ambit.hbone.tls;

import java.util.List;

/** Which TLS key-exchange groups HBONE offers and accepts (ztunnel's {@code COMPLIANCE_POLICY}). */
public enum CompliancePolicy {
    /**
     * Hybrid post-quantum X25519MLKEM768 preferred, then X25519, P-256 and P-384: what ztunnel offers and accepts by
     * default (its TLS provider's default groups), so a peer that only has the NIST curves (a FIPS-mode client) still
     * gets a handshake, as with ztunnel.
     */
    DEFAULT(List.of("X25519MLKEM768", "X25519", "P-256", "P-384")),
    /** Post-quantum only: X25519MLKEM768; a peer that cannot do it gets no handshake. */
    PQC(List.of("X25519MLKEM768"));

    private final List<String> groups;

    CompliancePolicy(List<String> groups) {
        this.groups = groups;
    }

    /** The key-exchange groups in preference order, by their BoringSSL names. */
    public List<String> groups() {
        return groups;
    }

    /**
     * Parses the configured name ({@code default} or {@code pqc}, case-insensitive).
     *
     * @throws IllegalArgumentException naming the value and what was expected
     */
    public static CompliancePolicy parse(String name) {
        for (CompliancePolicy p : values()) {
            if (p.name().equalsIgnoreCase(name.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException("compliancePolicy: \"" + name + "\" (expected: default or pqc)");
    }
}
