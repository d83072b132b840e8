package io.ambit.cli.authz;

/** A request that cannot be decided, with the field that was wrong. */
final class RequestParseException extends Exception {
    RequestParseException(String message) {
        super(message);
    }
}
