package io.ambit.waypoint.jwt;

/** A JWKS could not be had (fetch failed, not a JWKS, backing off after failures). Never yields keys. */
final class JwksUnavailableException extends RuntimeException {
    JwksUnavailableException(String message) {
        super(message, null, false, false);
    }
}
