package io.ambit.waypoint.extauthz;

import io.ambit.policy.engine.AccessRequest;
import java.util.List;
import java.util.Map;

/**
 * A provider's answer, ready to apply.
 *
 * <p>When {@link #allowed()}: feed {@link #answer()} to the engine (CUSTOM allows, DENY/ALLOW still decide);
 * before forwarding apply {@link #upstream()} in order, remove {@link #upstreamRemove()}, apply the query
 * changes; on the upstream response apply {@link #downstream()}.
 *
 * <p>When denied: answer the client with {@link #status()}, {@link #body()} and {@link #downstream()} (Envoy
 * sends {@code content-type: text/plain} when the body is not empty and the provider gave no content type).
 *
 * @param kind           what happened
 * @param allowed        whether the request continues (an allow, or an error with {@code failOpen})
 * @param status         the status to send when denied (the provider's, 403, 413 or {@code statusOnError})
 * @param body           the body to send when denied, "" when none
 * @param upstream       header changes on the upstream request (allowed only)
 * @param upstreamRemove lower-case headers to remove from the upstream request (allowed only)
 * @param downstream     headers of the denial, or changes on the upstream response when allowed
 * @param queryToSet     query parameters to set on the upstream request (gRPC providers)
 * @param queryToRemove  query parameters to remove (gRPC providers)
 * @param detail         one line for the access log
 */
public record ExtAuthzVerdict(
        Kind kind,
        boolean allowed,
        int status,
        String body,
        List<HeaderOp> upstream,
        List<String> upstreamRemove,
        List<HeaderOp> downstream,
        List<Map.Entry<String, String>> queryToSet,
        List<String> queryToRemove,
        String detail) {

    /** What the provider did. */
    public enum Kind {
        /** it answered allow (HTTP 200, gRPC OK) */
        ALLOWED,
        /** it answered deny */
        DENIED,
        /** it could not be asked or did not answer properly; {@code failOpen} decides */
        ERROR
    }

    public ExtAuthzVerdict {
        upstream = List.copyOf(upstream);
        upstreamRemove = List.copyOf(upstreamRemove);
        downstream = List.copyOf(downstream);
        queryToSet = List.copyOf(queryToSet);
        queryToRemove = List.copyOf(queryToRemove);
        body = body == null ? "" : body;
    }

    /** What the policy engine's {@code AccessRequest.extAuthz} takes. */
    public AccessRequest.ExtAuthzAnswer answer() {
        return allowed ? AccessRequest.ExtAuthzAnswer.ALLOW : AccessRequest.ExtAuthzAnswer.DENY;
    }

    static ExtAuthzVerdict allow(
            List<HeaderOp> upstream,
            List<String> remove,
            List<HeaderOp> downstream,
            List<Map.Entry<String, String>> queryToSet,
            List<String> queryToRemove,
            String detail) {
        return new ExtAuthzVerdict(
                Kind.ALLOWED, true, 200, "", upstream, remove, downstream, queryToSet, queryToRemove, detail);
    }

    static ExtAuthzVerdict deny(int status, String body, List<HeaderOp> headers, String detail) {
        return new ExtAuthzVerdict(
                Kind.DENIED, false, status, body, List.of(), List.of(), headers, List.of(), List.of(), detail);
    }

    /** An error: fail closed with {@code statusOnError}, or let the request through when {@code failOpen}. */
    static ExtAuthzVerdict error(boolean failOpen, int statusOnError, String detail) {
        return new ExtAuthzVerdict(
                Kind.ERROR,
                failOpen,
                failOpen ? 200 : statusOnError,
                "",
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                detail + (failOpen ? "; failOpen lets it through" : ""));
    }
}
