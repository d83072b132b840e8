package io.ambit.hbone.cert;

/** A certificate could not be issued or loaded; the message says why and what was expected. */
public final class CertificateSourceException extends Exception {
    public CertificateSourceException(String message) {
        super(message);
    }

    public CertificateSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
