package io.ambit.waypoint.stages;

import io.ambit.policy.crd.Action;
import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.extauthz.CheckInput;
import io.ambit.waypoint.extauthz.ExtAuthzClient;
import io.ambit.waypoint.extauthz.ExtAuthzClients;
import io.ambit.waypoint.extauthz.ExtAuthzVerdict;
import io.ambit.waypoint.extauthz.HeaderOp;
import io.ambit.waypoint.ingress.WaypointIdentity;
import io.ambit.waypoint.pipeline.RequestContext;
import io.ambit.waypoint.pipeline.RequestStage;
import io.ambit.waypoint.pipeline.StageResult;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUSTOM stage (authz-semantics §2.11): when a CUSTOM policy attached to the destination matches, the
 * request goes to that policy's ext_authz provider before anything else decides.
 *
 * <ol>
 *   <li>Ask the engine: with no provider answer yet, a matching CUSTOM policy gives verdict {@code CUSTOM}
 *       and names the provider; otherwise this stage does nothing.
 *   <li>Check with the provider ({@link ExtAuthzClients}; never blocks, never fails: an unreachable or slow
 *       provider is an error verdict, denied with {@code statusOnError} unless {@code failOpen}).
 *   <li>Back on the request's event loop: a denial answers the client with the provider's status, body and
 *       allowed headers (every value: two {@code set-cookie} stay two), flag {@code UAEX}; an allow records
 *       the answer (DENY/ALLOW still decide), applies the provider's header and query changes to the
 *       upstream request and keeps its {@code headersToDownstreamOnAllow} for the response.
 * </ol>
 */
public final class ExtAuthzStage implements RequestStage {
    private static final Logger log = LoggerFactory.getLogger(ExtAuthzStage.class);
    private static final Set<String> BODYLESS = Set.of("GET", "HEAD", "OPTIONS", "DELETE", "TRACE");

    private final ExtAuthzClients clients;
    private final WaypointIdentity self;

    /** Whether a snapshot has any CUSTOM policy at all, remembered for the last one seen. */
    private record CustomPolicies(PolicySnapshot policies, boolean any) {}

    private volatile CustomPolicies custom = new CustomPolicies(null, true);

    public ExtAuthzStage(ExtAuthzClients clients, WaypointIdentity self) {
        this.clients = clients;
        this.self = self;
    }

    @Override
    public CompletionStage<StageResult> apply(RequestContext request) {
        if (!anyCustom(request.mesh().policies())) {
            return StageResult.CONTINUE_NOW; // no CUSTOM policy anywhere: spare the request one decision
        }
        Decision d = request.decide();
        if (d.verdict() != Decision.Verdict.CUSTOM) {
            return StageResult.CONTINUE_NOW;
        }
        ExtAuthzClient client = clients.client(d.provider());
        if (client.body() != null && mayHaveBody(request)) {
            // The provider inspects bodies; checking without the body could let through what it would refuse.
            log.warn(
                    "ext_authz provider \"{}\" asks for the request body (includeRequestBodyInCheck), which the"
                            + " waypoint does not buffer yet: {} {} denied (fail closed)",
                    d.provider(),
                    request.method(),
                    request.path());
            return denied(
                    request, new LocalReply(403, "", Map.of(), ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE, false));
        }
        CompletableFuture<ExtAuthzVerdict> check = client.check(input(request)).toCompletableFuture();
        if (check.isDone() && !check.isCompletedExceptionally()) {
            return CompletableFuture.completedFuture(applied(request, check.join()));
        }
        // The answer comes on a provider connection's loop or a gRPC thread; the request is touched only on
        // its own loop.
        return check.thenApplyAsync(v -> applied(request, v), request.eventLoop());
    }

    private boolean anyCustom(PolicySnapshot policies) {
        CustomPolicies c = custom;
        if (c.policies() != policies) {
            boolean any =
                    policies.policies().authorizationPolicies().stream().anyMatch(p -> p.action() == Action.CUSTOM);
            c = new CustomPolicies(policies, any);
            custom = c; // a race only recomputes the same answer for one snapshot or the other
        }
        return c.any();
    }

    private StageResult applied(RequestContext request, ExtAuthzVerdict v) {
        request.extAuthz(v.answer());
        if (!v.allowed()) {
            log.debug("ext_authz denied {} {}: {}", request.method(), request.path(), v.detail());
            request.decide(); // so the access log names the CUSTOM policy with reason ext-authz, not "CUSTOM"
            return StageResult.respond(denial(v));
        }
        HttpHeaders headers = request.headers();
        for (HeaderOp op : v.upstream()) {
            op.apply(headers);
        }
        for (String name : v.upstreamRemove()) {
            headers.remove(name);
        }
        if (!v.queryToSet().isEmpty() || !v.queryToRemove().isEmpty()) {
            request.upstreamPath(Queries.edit(request.currentPath(), v.queryToSet(), v.queryToRemove()));
        }
        if (!v.downstream().isEmpty()) {
            List<HeaderOp> ops = v.downstream();
            request.editResponseHeaders(h -> ops.forEach(op -> op.apply(h)));
        }
        return StageResult.CONTINUE;
    }

    /** The provider's answer for the client: its status, body and the headers it may send. */
    static LocalReply denial(ExtAuthzVerdict v) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (HeaderOp op : v.downstream()) {
            op.apply(h);
        }
        var lines = new ArrayList<Map.Entry<String, String>>(h.size());
        for (Map.Entry<String, String> e : h) {
            lines.add(Map.entry(e.getKey(), e.getValue()));
        }
        return LocalReply.withLines(v.status(), v.body(), lines, ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
    }

    private static CompletionStage<StageResult> denied(RequestContext request, LocalReply reply) {
        request.extAuthz(AccessRequest.ExtAuthzAnswer.DENY);
        request.decide();
        return CompletableFuture.completedFuture(StageResult.respond(reply));
    }

    private CheckInput input(RequestContext request) {
        var headers = request.headers();
        long size = -1;
        String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            try {
                size = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                size = -1; // the codec already refused malformed lengths; nothing to tell the provider
            }
        }
        var target = request.target();
        return CheckInput.builder()
                .request(request.method(), "http", request.authority(), request.currentPath(), request.protocol())
                .headers(request.headerMap())
                .source(
                        socket(request.peer().sourceIp().toString(), 0),
                        request.peer().principal())
                .destination(
                        socket(target.vip().ip().toString(), target.servicePort()),
                        self.identity().toString())
                .requestId(headers.get("x-request-id"))
                .time(request.time())
                .body(null, false, size)
                .build();
    }

    private static boolean mayHaveBody(RequestContext request) {
        var headers = request.headers();
        String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            return !length.trim().equals("0");
        }
        return headers.contains(HttpHeaderNames.TRANSFER_ENCODING) || !BODYLESS.contains(request.method());
    }

    private static InetSocketAddress socket(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.ofLiteral(literal), port);
        } catch (IllegalArgumentException e) {
            return null; // not an IP literal (never for mesh addresses): the provider gets no address
        }
    }
}
