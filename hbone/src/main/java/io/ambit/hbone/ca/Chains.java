package io.ambit.hbone.ca;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** PKIX checks of CA material at load time: does this chain lead to these roots? */
final class Chains {
    private Chains() {}

    /**
     * Verifies that {@code path.get(0)} chains to one of {@code roots} through the rest of {@code path}, at
     * {@code at}, with the JDK's PKIX validator (no revocation). Roots may appear at the end of {@code path}
     * (Istio's {@code cert-chain.pem} ends with the root); they are dropped before validation.
     *
     * @throws GeneralSecurityException with the validator's reason
     */
    static void verify(List<X509Certificate> path, List<X509Certificate> roots, Instant at)
            throws GeneralSecurityException {
        List<X509Certificate> untrusted = new ArrayList<>(path);
        while (!untrusted.isEmpty() && roots.contains(untrusted.getLast())) {
            untrusted.removeLast();
        }
        if (untrusted.isEmpty()) {
            X509Certificate root = path.getFirst();
            root.checkValidity(Date.from(at));
            return; // the first certificate is itself a trusted root
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate root : roots) {
            anchors.add(new TrustAnchor(root, null));
        }
        var params = new PKIXParameters(anchors);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(at));
        var certPath = CertificateFactory.getInstance("X.509").generateCertPath(untrusted);
        CertPathValidator.getInstance("PKIX").validate(certPath, params);
    }

    /** Whether {@code cert} may sign certificates: a CA by basicConstraints, with keyCertSign if keyUsage is set. */
    static boolean isCa(X509Certificate cert) {
        boolean[] ku = cert.getKeyUsage();
        return cert.getBasicConstraints() >= 0 && (ku == null || (ku.length > 5 && ku[5]));
    }
}
