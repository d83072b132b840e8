package io.ambit.hbone.tls;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.Revocations;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.PeerIdentities.Role;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies HBONE peers inside the handshake, so a refused peer never gets a connection:
 *
 * <ol>
 *   <li>a PKIX chain to the roots of our own workload certificate (validity included, revocation not);
 *   <li>the peer's identity by {@link PeerIdentities#of(X509Certificate, Role)}: exactly one SPIFFE URI
 *       SAN, DNS SANs never count, NUL and control bytes rejected, and the extended key usage of its role
 *       ({@code clientAuth} for a client, {@code serverAuth} for a server) present;
 *   <li>that identity is acceptable: as a server, a client in our trust domain or an alias; as a client, one
 *       of the server identities expected for that connection, registered per {@link SSLEngine} before the
 *       handshake ({@link #expect}; the engine tcnative hands us is the one we created);
 *   <li>with a {@link RevocationChecker}, no certificate of the presented chain is revoked by the CRL in
 *       force ({@link PeerRevokedException}).
 * </ol>
 *
 * Host names are never checked (java-stack.md P3/P4).
 */
final class SpiffeTrustManager extends X509ExtendedTrustManager {
    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private final X509ExtendedTrustManager pkix;
    private final Set<String> acceptedTrustDomains;
    private final RevocationChecker revocations; // null: no CRL
    // Weak keys: an engine whose handshake never ran (channel closed early) cannot pin its entry.
    private final Map<SSLEngine, Set<SpiffeId>> expected = Collections.synchronizedMap(new WeakHashMap<>());

    SpiffeTrustManager(List<X509Certificate> roots, Set<String> acceptedTrustDomains, RevocationChecker revocations) {
        this.pkix = pkix(roots);
        this.acceptedTrustDomains = Set.copyOf(acceptedTrustDomains);
        this.revocations = revocations;
    }

    void expect(SSLEngine engine, Set<SpiffeId> identities) {
        expected.put(engine, Set.copyOf(identities));
    }

    void forget(SSLEngine engine) {
        expected.remove(engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        SpiffeId id = PeerIdentities.of(chain[0], Role.CLIENT);
        if (!acceptedTrustDomains.contains(id.trustDomain())) {
            throw new CertificateException("client identity " + id
                    + " is not in an accepted trust domain (expected one of " + acceptedTrustDomains + ")");
        }
        checkNotRevoked(revocations, List.of(chain), id);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("no expected server identities: HBONE verifies servers per connection");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        Set<SpiffeId> wanted = expected.get(engine);
        if (wanted == null) {
            checkServerTrusted(chain, authType);
            return;
        }
        // The two-argument form: PKIX without endpoint identification (there is no host name to match).
        pkix.checkServerTrusted(chain, authType);
        SpiffeId id = PeerIdentities.of(chain[0], Role.SERVER);
        if (!wanted.contains(id)) {
            throw new CertificateException("server identity " + id + " is not one of the expected " + wanted);
        }
        checkNotRevoked(revocations, List.of(chain), id);
    }

    /**
     * Refuses a chain with a revoked certificate (leaf or intermediate), by the CRL in force now.
     *
     * @throws PeerRevokedException naming the peer and the revoked certificate
     */
    static void checkNotRevoked(RevocationChecker revocations, List<X509Certificate> chain, SpiffeId peer)
            throws PeerRevokedException {
        if (revocations == null) {
            return;
        }
        Revocations now = revocations.current();
        for (X509Certificate cert : chain) {
            if (now.isRevoked(cert)) {
                String subject = cert.getSubjectX500Principal().getName();
                throw new PeerRevokedException(peer + ": the chain holds certificate serial "
                        + cert.getSerialNumber().toString(16) + (subject.isEmpty() ? "" : " \"" + subject + "\"")
                        + " from \"" + cert.getIssuerX500Principal().getName() + "\", revoked by the CRL"
                        + now.thisUpdate().map(t -> " of " + t).orElse(""));
            }
        }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        // No CA names in the CertificateRequest: clients send their workload certificate regardless.
        return NO_ISSUERS;
    }

    private static X509ExtendedTrustManager pkix(List<X509Certificate> roots) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("root-" + i, roots.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the PKIX TrustManagerFactory made no X509ExtendedTrustManager");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a PKIX trust manager from " + roots.size() + " roots", e);
        }
    }
}
