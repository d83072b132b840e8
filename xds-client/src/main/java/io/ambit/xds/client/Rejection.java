package io.ambit.xds.client;

/** One resource of a response that was not applied: its name and why (the NACK's text for it). */
public record Rejection(String name, String reason) {
    @Override
    public String toString() {
        return name + ": " + reason;
    }
}
