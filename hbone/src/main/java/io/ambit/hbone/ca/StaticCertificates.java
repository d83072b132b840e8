package io.ambit.hbone.ca;

import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentityException;
import io.ambit.hbone.identity.SpiffeId;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One identity's certificate from files written by someone else (cert-manager, {@code ambit ca issue}, a
 * mounted secret): the chain (leaf first, then intermediates), its private key, and the roots. The files
 * are read again on every {@link #issue}, so a rotation on disk is picked up when the certificate manager
 * refreshes; the requested lifetime is ignored.
 *
 * <p>Checked on every read: the leaf carries exactly one SPIFFE id (the one asked for), the key is the
 * leaf's, the chain leads to the roots (JDK PKIX), and the leaf is valid now.
 */
public final class StaticCertificates implements CertificateSource {
    /** The chain file in a directory written by {@code ambit ca issue}. */
    public static final String CERT_CHAIN = "cert-chain.pem";
    /** The key file in such a directory. */
    public static final String KEY = "key.pem";
    /** The roots file in such a directory. */
    public static final String ROOT_CERT = "root-cert.pem";

    private final Path chainFile;
    private final Path keyFile;
    private final Path rootsFile;
    private final Clock clock;
    private final SpiffeId identity;

    private StaticCertificates(Path chainFile, Path keyFile, Path rootsFile, Clock clock, SpiffeId identity) {
        this.chainFile = chainFile;
        this.keyFile = keyFile;
        this.rootsFile = rootsFile;
        this.clock = clock;
        this.identity = identity;
    }

    /** Reads {@code cert-chain.pem}, {@code key.pem} and {@code root-cert.pem} in {@code dir}. */
    public static StaticCertificates fromDirectory(Path dir, Clock clock) throws CertificateSourceException {
        return open(dir.resolve(CERT_CHAIN), dir.resolve(KEY), dir.resolve(ROOT_CERT), clock);
    }

    /**
     * Reads and checks the three files now.
     *
     * @throws CertificateSourceException naming the bad file and what was expected
     */
    public static StaticCertificates open(Path chain, Path key, Path roots, Clock clock)
            throws CertificateSourceException {
        WorkloadCertificate cert = load(chain, key, roots, clock.instant());
        return new StaticCertificates(chain, key, roots, clock, cert.identity());
    }

    /** The identity the files are for (as read when opened). */
    public SpiffeId identity() {
        return identity;
    }

    @Override
    public WorkloadCertificate issue(SpiffeId requested, Duration ttl) throws CertificateSourceException {
        WorkloadCertificate cert = load(chainFile, keyFile, rootsFile, clock.instant());
        if (!cert.identity().equals(requested)) {
            throw new CertificateSourceException(chainFile + " is for " + cert.identity() + ", not " + requested
                    + " (expected a certificate for the identity asked for)");
        }
        return cert;
    }

    private static WorkloadCertificate load(Path chainFile, Path keyFile, Path rootsFile, Instant now)
            throws CertificateSourceException {
        List<X509Certificate> chain =
                Pem.readCertificates(chainFile, "the workload certificate followed by its intermediates");
        X509Certificate leaf = chain.getFirst();
        SpiffeId id;
        try {
            id = PeerIdentities.of(leaf);
        } catch (PeerIdentityException e) {
            throw new CertificateSourceException(chainFile + ": " + e.getMessage(), e);
        }
        PrivateKey key = Pem.readPrivateKey(keyFile, "the private key of the workload certificate");
        if (!SigningCa.keyMatches(key, leaf.getPublicKey())) {
            throw new CertificateSourceException(keyFile + " does not match the public key of the first certificate in "
                    + chainFile + " (expected the workload certificate's own key)");
        }
        List<X509Certificate> roots = Pem.readCertificates(rootsFile, "the root certificate(s) peers chain to");
        if (now.isBefore(leaf.getNotBefore().toInstant())
                || !now.isBefore(leaf.getNotAfter().toInstant())) {
            throw new CertificateSourceException(chainFile + ": the certificate for " + id + " is valid from "
                    + leaf.getNotBefore().toInstant() + " to "
                    + leaf.getNotAfter().toInstant() + ", not now ("
                    + now + ")");
        }
        try {
            Chains.verify(chain, roots, now);
        } catch (GeneralSecurityException e) {
            throw new CertificateSourceException(
                    chainFile + " does not chain to " + rootsFile + ": " + e.getMessage(), e);
        }
        return new WorkloadCertificate(id, key, chain, roots);
    }
}
