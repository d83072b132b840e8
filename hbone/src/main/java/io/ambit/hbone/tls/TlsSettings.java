package io.ambit.hbone.tls;

import java.time.Duration;
import java.util.Set;

/**
 * HBONE TLS settings shared by client and server (ztunnel-reference.md §2.1).
 *
 * @param tls12Enabled also allow TLS 1.2 (ECDHE with AES-GCM only); off by default, as ztunnel's
 *     {@code TLS12_ENABLED}
 * @param compliancePolicy the key-exchange groups; {@link CompliancePolicy#PQC} requires TLS 1.3
 * @param trustDomainAliases trust domains a server accepts client certificates from besides its own
 * @param handshakeTimeout how long a TLS handshake may take before the connection is closed
 */
public record TlsSettings(
        boolean tls12Enabled,
        CompliancePolicy compliancePolicy,
        Set<String> trustDomainAliases,
        Duration handshakeTimeout) {

    public TlsSettings {
        if (compliancePolicy == null) {
            throw new IllegalArgumentException("compliancePolicy: null (expected: default or pqc)");
        }
        if (tls12Enabled && compliancePolicy == CompliancePolicy.PQC) {
            throw new IllegalArgumentException(
                    "tls12Enabled: true with compliancePolicy: pqc (expected: TLS 1.3 only; post-quantum key"
                            + " exchange does not exist in TLS 1.2)");
        }
        trustDomainAliases = Set.copyOf(trustDomainAliases);
        if (handshakeTimeout == null || handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout: " + handshakeTimeout + " (expected: > 0)");
        }
    }

    /** TLS 1.3 only, X25519MLKEM768 preferred, no aliases, 10 s handshake timeout. */
    public static TlsSettings defaults() {
        return new TlsSettings(false, CompliancePolicy.DEFAULT, Set.of(), Duration.ofSeconds(10));
    }

    public TlsSettings withCompliancePolicy(CompliancePolicy policy) {
        return new TlsSettings(tls12Enabled, policy, trustDomainAliases, handshakeTimeout);
    }

    public TlsSettings withTls12Enabled(boolean enabled) {
        return new TlsSettings(enabled, compliancePolicy, trustDomainAliases, handshakeTimeout);
    }

    public TlsSettings withTrustDomainAliases(Set<String> aliases) {
        return new TlsSettings(tls12Enabled, compliancePolicy, aliases, handshakeTimeout);
    }
}
