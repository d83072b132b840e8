package io.ambit.hbone.cert;

import java.math.BigInteger;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * What one CRL revokes, as an immutable snapshot: certificates by (issuer, serial). A certificate is revoked
 * when its issuer's name and its serial both match an entry (the entry's certificate issuer when the CRL is
 * indirect), so a serial reused by another CA is not caught by mistake.
 *
 * @param crl the CRL this was read from; empty for {@link #NONE}
 * @param revoked the revoked serials by issuer
 */
public record Revocations(Optional<X509CRL> crl, Map<X500Principal, Set<BigInteger>> revoked) {
    /** Nothing revoked: no CRL yet. */
    public static final Revocations NONE = new Revocations(Optional.empty(), Map.of());

    public Revocations {
        Map<X500Principal, Set<BigInteger>> copy = new HashMap<>();
        revoked.forEach((issuer, serials) -> copy.put(issuer, Set.copyOf(serials)));
        revoked = Map.copyOf(copy);
    }

    /** The revocations listed in {@code crl}. */
    public static Revocations of(X509CRL crl) {
        Map<X500Principal, Set<BigInteger>> revoked = new HashMap<>();
        Set<? extends X509CRLEntry> entries = crl.getRevokedCertificates();
        if (entries != null) {
            for (X509CRLEntry entry : entries) {
                X500Principal issuer = entry.getCertificateIssuer() != null
                        ? entry.getCertificateIssuer()
                        : crl.getIssuerX500Principal();
                revoked.computeIfAbsent(issuer, k -> new HashSet<>()).add(entry.getSerialNumber());
            }
        }
        return new Revocations(Optional.of(crl), revoked);
    }

    /** Whether {@code cert} is listed. */
    public boolean isRevoked(X509Certificate cert) {
        Set<BigInteger> serials = revoked.get(cert.getIssuerX500Principal());
        return serials != null && serials.contains(cert.getSerialNumber());
    }

    /** Whether any certificate of {@code chain} (the leaf or an intermediate) is listed. */
    public boolean isRevoked(List<X509Certificate> chain) {
        for (X509Certificate cert : chain) {
            if (isRevoked(cert)) {
                return true;
            }
        }
        return false;
    }

    /** Every revoked serial, whatever its issuer. */
    public Set<BigInteger> revokedSerials() {
        Set<BigInteger> all = new HashSet<>();
        revoked.values().forEach(all::addAll);
        return Set.copyOf(all);
    }

    /** When the CRL was issued; empty for {@link #NONE}. */
    public Optional<Instant> thisUpdate() {
        return crl.map(c -> c.getThisUpdate().toInstant());
    }

    /** When the CRL says a newer one will be out, if it says. */
    public Optional<Instant> nextUpdate() {
        return crl.map(X509CRL::getNextUpdate).map(d -> d.toInstant());
    }
}
