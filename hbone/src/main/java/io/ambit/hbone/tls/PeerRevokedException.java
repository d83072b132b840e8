package io.ambit.hbone.tls;

import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/**
 * The peer's chain holds a certificate the CRL in force revokes. Thrown by the trust manager, so the
 * handshake fails; its cause is a {@link CertPathValidatorException} with reason {@code REVOKED}, which
 * makes tcnative send the peer a {@code certificate_revoked} alert.
 */
public final class PeerRevokedException extends CertificateException {
    /** Public so that callers mapping failures to flags can be tested with the real type. */
    public PeerRevokedException(String message) {
        super(
                message,
                new CertPathValidatorException(
                        message, null, null, -1, CertPathValidatorException.BasicReason.REVOKED));
    }

    /** Whether {@code failure} (a handshake or verification failure) was caused by a revoked peer. */
    public static boolean isCause(Throwable failure) {
        return isCause(failure, 0);
    }

    private static boolean isCause(Throwable failure, int depth) {
        // Bounded: a cause chain may loop, and tcnative adds later verification errors as suppressed.
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof PeerRevokedException) {
                return true;
            }
            for (Throwable suppressed : t.getSuppressed()) {
                if (isCause(suppressed, depth + 1)) {
                    return true;
                }
            }
        }
        return false;
    }
}
