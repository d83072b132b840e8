package io.ambit.bench.hbone;

import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.time.Duration;
import java.time.Instant;

/**
 * An in-memory CA and the two workload certificates every HBONE benchmark uses: the client side presents
 * {@link #CLIENT}, the server side {@link #SERVER}. Istio-shaped (ECDSA P-256, URI SAN only), issued by
 * {@link SigningCa} as Ambit's own CAs issue them, so handshakes cost what they cost in a mesh.
 */
record BenchPki(WorkloadCertificate client, WorkloadCertificate server) {
    static final SpiffeId CLIENT = SpiffeId.parse("spiffe://cluster.local/ns/bench/sa/client");
    static final SpiffeId SERVER = SpiffeId.parse("spiffe://cluster.local/ns/bench/sa/server");

    /** A new root (signing leaves directly, like {@code LocalCa}) and a one-day certificate for each side. */
    static BenchPki create() {
        Instant now = Instant.now();
        SigningCa root = SigningCa.newRoot("O=cluster.local, CN=ambit bench CA", now, Duration.ofDays(1));
        try {
            return new BenchPki(
                    root.issue(CLIENT, now, Duration.ofDays(1)), root.issue(SERVER, now, Duration.ofDays(1)));
        } catch (CertificateSourceException e) {
            throw new IllegalStateException("cannot issue the benchmark certificates: " + e.getMessage(), e);
        }
    }
}
