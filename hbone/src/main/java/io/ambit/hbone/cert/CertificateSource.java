package io.ambit.hbone.cert;

import io.ambit.hbone.identity.SpiffeId;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.util.Optional;

/**
 * Where workload certificates come from: the embedded local CA, a plugged-in CA directory, static files,
 * or (later) istiod's IstioCertificateService. Implementations may block (file or network I/O); the
 * certificate manager calls them off the event loops.
 */
public interface CertificateSource {
    /**
     * Issues (or loads) a certificate for {@code identity}.
     *
     * @param ttl the requested lifetime; a source may shorten it
     * @throws CertificateSourceException when the CA cannot issue now; the manager retries with backoff
     */
    WorkloadCertificate issue(SpiffeId identity, Duration ttl) throws CertificateSourceException;

    /** The CA's current revocation list, when it publishes one. */
    default Optional<X509CRL> crl() {
        return Optional.empty();
    }
}
