package io.ambit.xds.convert;

/**
 * An xDS resource that cannot be used, named so that the NACK tells istiod which one and why:
 * {@code "<resource name>: <what was wrong> (expected: ...)"}.
 */
public final class InvalidResourceException extends Exception {
    private final String resource;
    private final String reason;

    public InvalidResourceException(String resource, String reason) {
        super(resource + ": " + reason);
        this.resource = resource;
        this.reason = reason;
    }

    /** The resource's xDS name. */
    public String resource() {
        return resource;
    }

    /** What was wrong, without the name. */
    public String reason() {
        return reason;
    }
}
