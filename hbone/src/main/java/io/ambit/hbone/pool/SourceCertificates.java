package io.ambit.hbone.pool;

import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Where the pool gets the certificate to present for a source identity: the certificate manager's current
 * one (fetched on demand, perhaps asynchronously). Asked once per new connection, so a rotated
 * certificate is used by the next connection.
 */
@FunctionalInterface
public interface SourceCertificates {
    CompletionStage<WorkloadCertificate> certificateFor(SpiffeId identity);

    /**
     * {@code manager}'s certificate for each source identity: the current one at once, else when the fetch
     * it starts ends; a failed fetch fails the dial (ztunnel's {@code IDENTITY_ERROR}). A rotation reaches
     * the next dial; pooled connections keep the certificate they were opened with.
     */
    static SourceCertificates from(CertificateManager manager) {
        return manager::certificate;
    }

    /** Always the supplier's current certificate, whatever identity is asked for (tests, single identity). */
    static SourceCertificates of(Supplier<WorkloadCertificate> current) {
        return identity -> {
            WorkloadCertificate cert = current.get();
            return cert.identity().equals(identity)
                    ? CompletableFuture.completedFuture(cert)
                    : CompletableFuture.failedFuture(new IllegalArgumentException(
                            "no certificate for " + identity + " (have " + cert.identity() + ")"));
        };
    }
}
