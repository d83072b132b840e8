package io.ambit.hbone.cert;

import io.ambit.hbone.identity.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one identity presents and trusts: its private key, its chain (leaf first, then intermediates),
 * and the roots its peers must chain to. Immutable; a rotation produces a new instance.
 *
 * @param identity the SPIFFE id the leaf carries as its URI SAN ({@code CertificateManager} checks the two agree)
 * @param key the leaf's private key (ECDSA P-256 from Ambit's CAs)
 * @param chain what the handshake presents: the leaf, then intermediates; in Istio's layout (a plugged CA's
 *     {@code cert-chain.pem}) it also ends with the root, which peers ignore
 * @param roots what peers' chains are verified against (ztunnel-reference §3.4); several during a root rotation
 */
public record WorkloadCertificate(
        SpiffeId identity, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> roots) {

    public WorkloadCertificate {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("certificate chain for " + identity + " is empty");
        }
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("no trust roots for " + identity);
        }
        chain = List.copyOf(chain);
        roots = List.copyOf(roots);
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    public Duration lifetime() {
        return Duration.between(notBefore(), notAfter());
    }

    /** Whether the leaf is valid at {@code now}. */
    public boolean validAt(Instant now) {
        return !now.isBefore(notBefore()) && now.isBefore(notAfter());
    }
}
