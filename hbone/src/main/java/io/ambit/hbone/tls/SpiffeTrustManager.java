package io.ambit.hbone.tls;

import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
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
 * Verifies HBONE peers: first a PKIX chain to the roots of our own workload certificate (validity, key
 * usage and extended key usage included, revocation not), then the SPIFFE rules. Host names are never
 * checked (java-stack.md P3/P4): a URI SAN is the only identity, and DNS SANs never count.
 *
 * <ul>
 *   <li>As a server, a client certificate must carry a SPIFFE id in our trust domain or an alias.
 *   <li>As a client, the server certificate must carry one of the SPIFFE ids expected for that
 *       connection. The expected set is registered per {@link SSLEngine} before the handshake
 *       ({@link #expect}); the engine tcnative hands us is the one we created.
 * </ul>
 */
final class SpiffeTrustManager extends X509ExtendedTrustManager {
    private static final int URI_SAN = 6;
    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private final X509ExtendedTrustManager pkix;
    private final Set<String> acceptedTrustDomains;
    // Weak keys: an engine whose handshake never ran (channel closed early) cannot pin its entry.
    private final Map<SSLEngine, Set<SpiffeId>> expected = Collections.synchronizedMap(new WeakHashMap<>());

    SpiffeTrustManager(List<X509Certificate> roots, Set<String> acceptedTrustDomains) {
        this.pkix = pkix(roots);
        this.acceptedTrustDomains = Set.copyOf(acceptedTrustDomains);
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
        List<SpiffeId> ids = spiffeIds(chain[0]);
        for (SpiffeId id : ids) {
            if (acceptedTrustDomains.contains(id.trustDomain())) {
                return;
            }
        }
        throw new CertificateException(
                ids.isEmpty()
                        ? "client certificate has no SPIFFE URI SAN (expected spiffe://<trust-domain>/ns/<ns>/sa/<sa>)"
                        : "client identity " + ids + " is not in an accepted trust domain (expected one of "
                                + acceptedTrustDomains + ")");
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
        List<SpiffeId> ids = spiffeIds(chain[0]);
        for (SpiffeId id : ids) {
            if (wanted.contains(id)) {
                return;
            }
        }
        throw new CertificateException("server identity " + ids + " is not one of the expected " + wanted);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        // No CA names in the CertificateRequest: clients send their workload certificate regardless.
        return NO_ISSUERS;
    }

    /** The certificate's URI SANs that are well-formed workload SPIFFE ids, in order; others are skipped. */
    static List<SpiffeId> spiffeIds(X509Certificate certificate) throws CertificateException {
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("unreadable subject alternative names: " + e.getMessage(), e);
        }
        if (sans == null) {
            return List.of();
        }
        List<SpiffeId> ids = new ArrayList<>(1);
        for (List<?> san : sans) {
            if (san.size() == 2
                    && san.get(0) instanceof Integer type
                    && type == URI_SAN
                    && san.get(1) instanceof String uri) {
                try {
                    ids.add(SpiffeId.parse(uri));
                } catch (IllegalArgumentException e) {
                    // not a workload identity (or malformed, e.g. with a NUL): it does not count
                }
            }
        }
        return ids;
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
