package io.ambit.xds.ca;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.client.ControlPlaneChannel;
import io.ambit.xds.client.XdsSettings;
import io.ambit.xds.proto.ca.IstioCertificateRequest;
import io.ambit.xds.proto.ca.IstioCertificateServiceGrpc;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Workload certificates from istiod's {@code IstioCertificateService/CreateCertificate} (ztunnel-reference
 * §3.2–§3.4), as a {@link CertificateSource} for hbone's certificate manager, which owns rotation,
 * backoff and keeping a valid certificate while the CA is down.
 *
 * <p>Each call sends a new P-256 key's CSR for the identity, the lifetime wanted in seconds, and — when
 * the identity is not this proxy's own (ztunnel asks on behalf of the pods of its node) —
 * {@code ImpersonatedIdentity} metadata naming it, over TLS with the bearer token and {@code clusterid}.
 * The answer's first element is the leaf, the last the root bundle (one or several PEM roots, all
 * trusted), anything between intermediates. The leaf must carry our key; the manager checks that it
 * names the identity asked for and is valid now. Calls block (the manager runs them off the event
 * loops) and are bounded by a deadline.
 */
public final class IstioCaClient implements CertificateSource, AutoCloseable {
    /** How long one CreateCertificate may take before it counts as a CA failure. */
    static final Duration DEADLINE = Duration.ofSeconds(10);

    private final ControlPlaneChannel channel;
    private final XdsSettings settings;
    private final SpiffeId self;

    /**
     * @param settings where the CA is ({@code CA_ADDRESS}), what to trust, the token and cluster id
     * @param self     this proxy's own identity, requested without impersonation; null when it has none
     */
    public IstioCaClient(XdsSettings settings, SpiffeId self) {
        this.settings = settings;
        this.self = self;
        this.channel = new ControlPlaneChannel(
                settings.address(), settings.rootCert(), settings.serverName(), 4 * 1024 * 1024, null);
    }

    @Override
    public WorkloadCertificate issue(SpiffeId identity, Duration ttl) throws CertificateSourceException {
        Csr csr;
        try {
            csr = Csr.forIdentity(identity);
        } catch (GeneralSecurityException e) {
            throw new CertificateSourceException(e.getMessage(), e);
        }
        List<String> chain;
        try {
            chain = IstioCertificateServiceGrpc.newBlockingStub(channel.current())
                    .withCallCredentials(settings.credentials())
                    .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .createCertificate(request(identity, csr.pem(), ttl))
                    .getCertChainList();
        } catch (StatusRuntimeException e) {
            throw new CertificateSourceException(
                    "the CA at " + settings.address() + " refused a certificate for "
                            + identity + ": " + e.getStatus().getCode()
                            + (e.getStatus().getDescription() == null
                                    ? ""
                                    : ": " + e.getStatus().getDescription()),
                    e);
        } catch (IOException e) {
            throw new CertificateSourceException(
                    "cannot reach the CA at " + settings.address() + ": " + e.getMessage(), e);
        }
        return certificate(identity, csr, chain);
    }

    /** The request for one identity: impersonating it unless it is this proxy's own. */
    IstioCertificateRequest request(SpiffeId identity, String csrPem, Duration ttl) {
        var b = IstioCertificateRequest.newBuilder().setCsr(csrPem).setValidityDuration(ttl.toSeconds());
        if (!identity.equals(self)) {
            b.setMetadata(Struct.newBuilder()
                    .putFields(
                            "ImpersonatedIdentity",
                            Value.newBuilder()
                                    .setStringValue(identity.toString())
                                    .build()));
        }
        return b.build();
    }

    /** Splits the answer into leaf, intermediates and roots (the last element), and checks the leaf's key. */
    static WorkloadCertificate certificate(SpiffeId identity, Csr csr, List<String> chain)
            throws CertificateSourceException {
        if (chain.size() < 2) {
            throw new CertificateSourceException(
                    "the CA answered " + chain.size() + " certificate chain element(s) for " + identity
                            + " (expected: the leaf first and the root bundle last)");
        }
        var certs = new ArrayList<X509Certificate>();
        for (int i = 0; i < chain.size() - 1; i++) {
            certs.addAll(Pem.parseCertificates(chain.get(i), "cert_chain[" + i + "]", "a certificate"));
        }
        var roots = Pem.parseCertificates(chain.getLast(), "cert_chain[" + (chain.size() - 1) + "]", "the root bundle");
        if (certs.isEmpty() || roots.isEmpty()) {
            throw new CertificateSourceException(
                    "the CA answered no " + (certs.isEmpty() ? "leaf" : "root") + " certificate for " + identity);
        }
        if (!Arrays.equals(
                certs.getFirst().getPublicKey().getEncoded(),
                csr.keys().getPublic().getEncoded())) {
            throw new CertificateSourceException("the CA answered a certificate for another key than the one asked for "
                    + identity + " (expected: the CSR's public key)");
        }
        return new WorkloadCertificate(identity, csr.keys().getPrivate(), certs, roots);
    }

    @Override
    public void close() {
        channel.close();
    }
}
