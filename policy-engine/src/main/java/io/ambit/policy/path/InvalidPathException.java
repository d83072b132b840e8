package io.ambit.policy.path;

/**
 * A request path that cannot be normalized and must be refused with HTTP 400 before any policy is
 * evaluated, as Envoy does. Scope: the one request (stream); the connection stays usable.
 */
public final class InvalidPathException extends RuntimeException {
    InvalidPathException(String message) {
        super(message);
    }
}
