package io.ambit.waypoint.stages;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.answer.Replies;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.extauthz.ExtAuthzVerdict;
import io.ambit.waypoint.extauthz.HeaderOp;
import io.ambit.waypoint.ratelimit.RateLimitDecision;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the client gets for the stages' refusals, in HTTP and in gRPC's form. */
class ReplyLinesTest {
    static final ExtAuthzVerdict DENIED = new ExtAuthzVerdict(
            ExtAuthzVerdict.Kind.DENIED,
            false,
            401,
            "{\"error\":\"who are you?\"}",
            List.of(),
            List.of(),
            List.of(
                    new HeaderOp("content-type", "application/json", HeaderOp.Action.SET),
                    new HeaderOp("set-cookie", "a=1", HeaderOp.Action.APPEND),
                    new HeaderOp("set-cookie", "b=2", HeaderOp.Action.APPEND)),
            List.of(),
            List.of(),
            "denied");

    @Test
    void anAuthorizersDenialKeepsEveryCookieAndItsContentType() {
        var reply = ExtAuthzStage.denial(DENIED);
        assertThat(reply.flag()).isEqualTo(ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
        FullHttpResponse r = Replies.toResponse(reply, false, false, ByteBufAllocator.DEFAULT);
        try {
            assertThat(r.status().code()).isEqualTo(401);
            assertThat(r.headers().getAll("set-cookie")).containsExactly("a=1", "b=2");
            assertThat(r.headers().getAll("content-type")).containsExactly("application/json");
            assertThat(r.content().toString(StandardCharsets.UTF_8)).isEqualTo("{\"error\":\"who are you?\"}");
            assertThat(r.headers().getInt("content-length")).isEqualTo(24);
        } finally {
            r.release();
        }
    }

    @Test
    void aGrpcCallerGetsTheStatusInGrpcsFormAndTheAuthorizerCannotChangeIt() {
        FullHttpResponse r = Replies.toResponse(ExtAuthzStage.denial(DENIED), true, false, ByteBufAllocator.DEFAULT);
        try {
            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.headers().get("grpc-status")).isEqualTo("16");
            assertThat(r.headers().getAll("content-type")).containsExactly("application/grpc");
            assertThat(r.headers().getAll("set-cookie")).containsExactly("a=1", "b=2");
        } finally {
            r.release();
        }
    }

    @Test
    void aRateLimitRefusalIsEnvoysWithTheLimitsHeadersOnly() {
        var d = new RateLimitDecision(
                false,
                true,
                "EnvoyFilter shop/limit",
                429,
                RateLimitDecision.BODY,
                8,
                List.of(Map.entry("x-local-rate-limit", "true")),
                List.of(),
                List.of(Map.entry("x-ratelimit-limit", "5"), Map.entry("x-ratelimit-remaining", "0")));
        var reply = RateLimitStage.refusal(d);
        assertThat(reply.grpcStatus()).as("rate_limited_as_resource_exhausted").isEqualTo(8);
        assertThat(reply.flag()).isEqualTo(ResponseFlag.RATE_LIMITED);
        FullHttpResponse r = Replies.toResponse(reply, false, false, ByteBufAllocator.DEFAULT);
        try {
            assertThat(r.status().code()).isEqualTo(429);
            assertThat(r.content().toString(StandardCharsets.UTF_8)).isEqualTo("local_rate_limited");
            assertThat(r.headers().names())
                    .containsExactlyInAnyOrder(
                            "content-type",
                            "content-length",
                            "x-local-rate-limit",
                            "x-ratelimit-limit",
                            "x-ratelimit-remaining");
        } finally {
            r.release();
        }
    }
}
