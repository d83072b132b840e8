package io.ambit.hbone.cert;

import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.identity.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A CA on a fake clock that can be taken down, made to lie, or made to hand out old certificates. */
final class FakeCa implements CertificateSource {
    final SigningCa ca;
    private final Clock clock;
    final List<Instant> calls = new CopyOnWriteArrayList<>();
    final List<SpiffeId> requested = new CopyOnWriteArrayList<>();
    volatile boolean down;
    /** When set, every certificate is issued for this identity instead. */
    volatile SpiffeId impersonate;
    /** When set, certificates are issued as if it were this much earlier. */
    volatile Duration issuedAgo = Duration.ZERO;

    FakeCa(Clock clock) {
        this.clock = clock;
        this.ca = SigningCa.newRoot(
                "O=test, CN=fake CA", clock.instant().minus(Duration.ofDays(1)), Duration.ofDays(3650));
    }

    @Override
    public WorkloadCertificate issue(SpiffeId identity, Duration ttl) throws CertificateSourceException {
        calls.add(clock.instant());
        requested.add(identity);
        if (down) {
            throw new CertificateSourceException("CA unavailable: connection refused");
        }
        SpiffeId subject = impersonate != null ? impersonate : identity;
        WorkloadCertificate cert = ca.issue(subject, clock.instant().minus(issuedAgo), ttl);
        // A lying CA also lies in the record; the manager must read the certificate itself.
        return new WorkloadCertificate(identity, cert.key(), cert.chain(), cert.roots());
    }
}
