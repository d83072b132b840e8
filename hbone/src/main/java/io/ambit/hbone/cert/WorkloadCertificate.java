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
