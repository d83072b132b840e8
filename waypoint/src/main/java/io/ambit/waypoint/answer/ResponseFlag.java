package io.ambit.waypoint.answer;

/**
 * Envoy's response flags, as Istio's {@code response_flags} metric label and access log show them: why a
 * request did not simply go through. Set where the failure happens, mapped to a status in one place
 * ({@link LocalReply}).
 */
public enum ResponseFlag {
    /** Nothing unusual. */
    NONE("-"),
    /** No healthy upstream endpoint. */
    NO_HEALTHY_UPSTREAM("UH"),
    /** The upstream connection (HBONE tunnel) could not be opened. */
    UPSTREAM_CONNECTION_FAILURE("UF"),
    /** The upstream did not answer in time. */
    UPSTREAM_REQUEST_TIMEOUT("UT"),
    /** The upstream connection ended before the response did. */
    UPSTREAM_CONNECTION_TERMINATION("UC"),
    /** The upstream reset the request (refused its stream) before responding, and it could not be retried. */
    UPSTREAM_REMOTE_RESET("UR"),
    /** The upstream answered something that is not valid HTTP. */
    UPSTREAM_PROTOCOL_ERROR("UPE"),
    /** The client went away before the response was complete. */
    DOWNSTREAM_CONNECTION_TERMINATION("DC"),
    /** The client sent a malformed request. */
    DOWNSTREAM_PROTOCOL_ERROR("DPE"),
    /** No route: the request is for nothing this waypoint serves. */
    NO_ROUTE_FOUND("NR"),
    /** Denied by the external authorizer (CUSTOM). */
    UNAUTHORIZED_EXTERNAL_SERVICE("UAEX"),
    /** Refused by the local rate limit. */
    RATE_LIMITED("RL"),
    /** The stream idled longer than allowed. */
    STREAM_IDLE_TIMEOUT("SI");

    private final String code;

    ResponseFlag(String code) {
        this.code = code;
    }

    /** The short code, e.g. {@code UF}. */
    public String code() {
        return code;
    }
}
