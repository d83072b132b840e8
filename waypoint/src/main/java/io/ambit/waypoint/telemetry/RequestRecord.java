package io.ambit.waypoint.telemetry;

import io.ambit.policy.engine.Decision;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.ingress.Peer;
import io.ambit.waypoint.ingress.Target;
import io.ambit.waypoint.route.Endpoint;
import io.ambit.waypoint.tracing.TraceContext;
import java.time.Instant;

/**
 * Everything known about one finished request, handed to metrics, the access log and the tracer once.
 *
 * @param start when the request head arrived
 * @param durationNanos until the response was fully written (or the exchange ended)
 * @param protocol {@code HTTP/1.1} or {@code HTTP/2}
 * @param grpc whether it was a gRPC call
 * @param status the HTTP status sent (0 when none was: the client left first)
 * @param grpcStatus the {@code grpc-status} sent, or null
 * @param endpoint where it went, or null (denied, no endpoint)
 * @param decision the policy decision, or null when no stage got that far
 * @param deciding the name of the stage that answered locally ({@code rbac}, {@code ext_authz}, ...), or null
 */
public record RequestRecord(
        Instant start,
        long durationNanos,
        String protocol,
        boolean grpc,
        String method,
        String authority,
        String path,
        int status,
        String grpcStatus,
        ResponseFlag flag,
        long bytesReceived,
        long bytesSent,
        Peer peer,
        Target target,
        Endpoint endpoint,
        Decision decision,
        String requestId,
        String userAgent,
        TraceContext trace) {}
